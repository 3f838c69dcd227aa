"""assay report / slides / compare on one small finished run (steels, dummy + lgbm)."""
from __future__ import annotations

import dataclasses
import gzip
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assay.report.report import SECTIONS, build_report, write_report

SECTION_IDS = [sid for sid, _ in SECTIONS]


def _figures(doc: str) -> list[str]:
    return re.findall(r'<figure id="fig-([^"]+)" data-figure', doc)


# ------------------------------------------------------------------------------- the report
def test_report_has_every_section_and_embedded_figures(small_run):
    b, sections, doc = build_report(small_run)
    assert [s.id for s in sections] == SECTION_IDS
    for sid, title in SECTIONS:
        assert f'<section class="sec" id="{sid}"' in doc, sid
        assert title in doc
    figs = _figures(doc)
    for needed in ("audit-target_hist", "model-comparison", "per-fold", "parity", "residuals",
                   "leaderboard"):
        assert needed in figs, needed
    assert len(figs) == len(set(figs)) == len(b.figures)
    assert f'<meta name="assay-figures" content="{len(figs)}">' in doc
    # self-contained: every image is a data URI, nothing is fetched from elsewhere
    srcs = re.findall(r'\ssrc="([^"]+)"', doc)
    assert srcs and all(s.startswith("data:image/") for s in srcs)
    assert "<link" not in doc and "<script" not in doc
    assert "@media print" in doc
    # numbers come from the run
    summary = json.loads((small_run / "summary.json").read_text())
    mae = summary["lgbm"]["mae"]["mean"]
    assert f"{mae:.1f}" in doc or f"{mae:.4g}" in doc


def test_model_choice_is_argued_from_the_numbers(small_run):
    b, sections, doc = build_report(small_run)
    sec = {s.id: s for s in sections}["model-choice"]
    text = " ".join(sec.md)
    n_features = json.loads((small_run / "features.json").read_text())["n_features"]
    assert "312 rows" in text and f"{n_features} features" in text
    assert "dummy" in text
    # controls / learning curve: from the run's own artifacts when the evaluation stage wrote them
    if (small_run / "comparison.json").is_file() and json.loads(
            (small_run / "comparison.json").read_text()).get("controls", {}).get("summary"):
        assert "Control" in text and "random-features" in text
    else:
        assert "not run" in text
    if (small_run / "learning_curve.json").is_file():
        assert "Learning curve (" in text
        assert "learning-curve" in _figures(doc)


def test_checklist_answers_every_item_with_evidence_and_a_link(small_run):
    b, sections, doc = build_report(small_run)
    items = b.facts.checklist
    assert len(items) >= 25
    cats = {i.category for i in items}
    assert cats == {"Data sources", "Data cleaning", "Data representations", "Model choice",
                    "Training and validation", "Code and reproducibility"}
    for i in items:
        assert i.answer in ("yes", "no", "n/a")
        assert i.evidence.strip()
        assert i.section in SECTION_IDS
    assert any("Leakage" in i.question for i in items)
    # a trust step that was not run is answered "no", never assumed
    unc = next(i for i in items if "uncertainties" in i.question)
    assert unc.answer == ("yes" if (small_run / "trust" / "uncertainty.json").is_file() else "no")


def test_outliers_list_compositions_and_largest_errors(small_run):
    b, sections, doc = build_report(small_run)
    sec = {s.id: s for s in sections}["outliers"]
    p = pd.read_parquet(small_run / "predictions.parquet").query("model == 'lgbm'")
    worst = p.iloc[np.argmax(np.abs(p["y_pred"] - p["y_true"]).to_numpy())]
    assert worst["id"] in sec.html
    assert "Fe" in sec.html  # steels compositions are shown, not just ids


def test_missing_artifacts_are_reported_as_not_run(run_copy):
    for name in ("comparison.json", "learning_curve.json", "learning_curve.png", "extra_splits.json"):
        (run_copy / name).unlink(missing_ok=True)
    for d in ("trust", "search", "splits", "controls", "learning_curve"):
        shutil.rmtree(run_copy / d, ignore_errors=True)
    b, sections, doc = build_report(run_copy)
    for step in ("learning curve", "nested hyperparameter search",
                 "leave-chemical-system-out split",
                 "interpretation, uncertainty and domain of applicability"):
        assert f'data-missing="{step}"' in doc, step
    assert "assay explain" in doc
    items = {i.question: i.answer for i in b.facts.checklist}
    assert items["Is a control (random features or shuffled target) reported?"] == "no"
    assert items["Is the model's complexity related to the data size (learning curve)?"] == "no"
    assert items["Are prediction uncertainties and a domain of applicability given?"] == "no"
    # the paired tests fall back to the fold scores, and say so
    assert "computed here from scores.csv" in doc


def test_paired_tests_are_read_from_comparison_json_not_recomputed(small_run, monkeypatch):
    import assay.report.evidence as evidence

    comp = json.loads((small_run / "comparison.json").read_text())

    def no_recompute(*a, **k):
        raise AssertionError("the report recomputed a pair that comparison.json holds")

    monkeypatch.setattr(evidence, "paired_test", no_recompute)
    b, sections, doc = build_report(small_run)
    assert len(b.paired) == len(comp["rows"]) and comp["rows"]
    for p, row in zip(b.paired, comp["rows"]):
        assert (p["a"], p["b"], p["p_ttest"], p["p_wilcoxon"], p["wins"], p["source"]) == (
            row["model"], row["versus"], row["p_ttest"], row["p_wilcoxon"], row["folds_better"],
            "comparison.json")
    assert "Source: comparison.json." in {s.id: s for s in sections}["model-choice"].html


def test_a_pair_missing_from_comparison_json_is_computed_with_the_one_paired_test(run_copy):
    from assay.evaluation.stats import paired_test
    from assay.report.builder import ReportBuilder

    comp = json.loads((run_copy / "comparison.json").read_text())
    row = next(r for r in comp["rows"] if (r["model"], r["versus"]) == ("lgbm", "dummy"))
    comp["rows"] = [r for r in comp["rows"] if r is not row]
    (run_copy / "comparison.json").write_text(json.dumps(comp))
    b = ReportBuilder(run_copy)
    got = next(p for p in b.paired if (p["a"], p["b"]) == ("lgbm", "dummy"))
    assert got["source"] == "computed here from scores.csv" and got["kind"] == "baseline"
    t = b.run.fold_table()
    want = paired_test(t.loc["lgbm"], t.loc["dummy"], b.run.higher_is_better)
    assert (got["p_ttest"], got["p_wilcoxon"], got["wins"], got["verdict"]) == (
        want["p_ttest"], want["p_wilcoxon"], want["folds_better"], want["verdict"])
    # the same test on the same fold scores: the run's own numbers come back
    assert got["p_ttest"] == pytest.approx(row["p_ttest"], rel=1e-9)
    assert got["p_wilcoxon"] == pytest.approx(row["p_wilcoxon"], rel=1e-9)
    assert got["gain"] == pytest.approx(row["mean_gain"], rel=1e-9)
    sections = b.build()
    html = {s.id: s for s in sections}["model-choice"].html
    assert "lgbm against dummy: computed here from scores.csv, with the same test" in html


def test_report_facts_are_typed(small_run):
    from assay.report.facts import ReportFacts

    b, sections, doc = build_report(small_run)
    assert isinstance(b.facts, ReportFacts)
    rank, n = b.facts.rank
    assert 1 <= rank <= n and f"rank <b>{rank} of {n}</b>" in doc
    alg, mu, sd = b.facts.lb_best
    assert isinstance(alg, str) and mu > 0 and sd >= 0
    assert b.facts.command == f"assay run {small_run.resolve() / 'config.toml'}"
    assert b.facts.checklist and b.facts.seconds is None  # set by write_report only


def test_split_reasons_and_cli_flags_follow_their_sources():
    """The report keeps why a split is used and which option sets a config field; what splits
    exist and what options `assay run` has are defined elsewhere and must not drift."""
    import typer.main

    from assay import RunConfig
    from assay.cli import app
    from assay.evaluation.splitters import SPLITS
    from assay.report.report import CLI_FLAGS, SPLIT_WHY

    assert set(SPLIT_WHY) == set(SPLITS)
    run = typer.main.get_command(app).commands["run"]
    opts = {o for p in run.params for o in p.opts}
    assert set(CLI_FLAGS.values()) <= opts
    assert set(CLI_FLAGS) <= {f.name for f in dataclasses.fields(RunConfig)}


def _write_trust(run: Path) -> None:
    """trust/ in the format `assay explain` writes (explanation/trust.py)."""
    t = run / "trust"
    t.mkdir()
    png = (run / "audit" / "target_hist.png").read_bytes()
    for name in ("shap_summary.png", "calibration.png", "error_vs_distance.png", "importance_groups.png"):
        (t / name).write_bytes(png)
    common = {"run_id": run.name, "model": "lgbm", "n_folds": 5, "split": "official"}
    (t / "trust.json").write_text(json.dumps({**common, "seconds": 12.5, "headline": {}}))
    (t / "importance.json").write_text(json.dumps({**common, "permutation": {
        "score": "MAE increase", "features": [
            {"feature": "MagpieData mean Number", "group": "Number", "importance": 31.5, "std_over_folds": 4.0},
            {"feature": "MagpieData range Column", "group": "Column", "importance": 12.25, "std_over_folds": 2.0}]},
        "shap": {"method": "tree", "n_rows": 300, "mean_abs": [
            {"feature": "MagpieData mean Number", "group": "Number", "mean_abs_shap": 40.0}]}}))
    (t / "surrogate.json").write_text(json.dumps({**common, "fidelity_metric": "r2", "tree": {
        "max_depth": 3, "fidelity": 0.71, "rules": "|--- feature <= 1\n|   |--- value: [1200]"},
        "linear": {"fidelity": 0.55, "coefficients": [{"feature": "MagpieData mean Number",
                                                        "coefficient_per_sd": 80.0}]}}))
    (t / "uncertainty.json").write_text(json.dumps({**common, "nominal": 0.9,
        "primary_method": "cv+ normalized", "methods": {
            "cv+": {"coverage": 0.905, "mean_width": 310.0, "spearman_width_abs_error": 0.1},
            "cv+ normalized": {"coverage": 0.897, "mean_width": 290.0, "spearman_width_abs_error": 0.33}}}))
    (t / "domain.json").write_text(json.dumps({**common, "n_neighbors": 5, "error_quantile": 0.8,
        "summary": {"fraction_out_of_domain": 0.2, "mae_in_domain": 90.0, "mae_out_of_domain": 170.0,
                    "n_unseen_element_rows": 0, "spearman_distance_abs_error": 0.3},
        "split_comparison": {"metric": "mae", "random_split": 104.0, "leave_chemical_system_out": 151.0,
                             "ratio": 1.45, "loco_splitter": "chemical systems packed into 5 folds"}}))


def test_trust_artifacts_are_rendered(run_copy):
    _write_trust(run_copy)
    b, sections, doc = build_report(run_copy)
    sec = {s.id: s for s in sections}["interpretation"]
    assert "data-missing" not in sec.html
    for fig in ("trust-shap_summary", "trust-calibration", "trust-error_vs_distance", "trust-importance_groups"):
        assert fig in b.figures, fig
    assert "MagpieData mean Number" in sec.html and "0.897" in sec.html and "290" in sec.html
    assert "151" in {s.id: s for s in sections}["training"].html  # LOCO from domain.json
    items = {i.question: i.answer for i in b.facts.checklist}
    assert items["Are prediction uncertainties and a domain of applicability given?"] == "yes"
    assert items["Is the model interpreted (feature importance or surrogate)?"] == "yes"


# ------------------------------------------------------------------------------- the browser
def test_report_renders_in_headless_chromium(small_run, tmp_path, browser, cdp_helpers):
    out = write_report(small_run, tmp_path / "report.html")
    page = browser(out.as_uri())
    ev = cdp_helpers["evaluate"]
    state = ev(page, """(() => {
      const imgs = [...document.images];
      return {
        sections: [...document.querySelectorAll('section.sec')].map(s => s.id),
        figures: [...document.querySelectorAll('figure[data-figure]')].map(f => f.dataset.figure),
        loaded: imgs.map(i => i.complete && i.naturalWidth > 0),
        expected: +document.querySelector('meta[name="assay-figures"]').content,
        external: [...document.querySelectorAll('[src],link[href]')]
                    .map(e => e.getAttribute('src') || e.getAttribute('href'))
                    .filter(u => !u.startsWith('data:')),
        width: document.documentElement.scrollWidth,
        toc: [...document.querySelectorAll('nav.toc a')].map(a => a.getAttribute('href')),
      };
    })()""")
    assert state["sections"] == SECTION_IDS
    assert len(state["figures"]) == state["expected"] > 5
    assert all(state["loaded"]) and len(state["loaded"]) == state["expected"]
    assert state["external"] == []
    assert state["toc"] == [f"#{s}" for s in SECTION_IDS]
    assert state["width"] <= 1280  # no horizontal scrolling on a laptop screen
    shot = cdp_helpers["save_screenshot"](page, "report_top.png")
    assert shot.stat().st_size > 10_000
    pdf = page.call("Page.printToPDF", printBackground=False, preferCSSPageSize=True)["data"]
    import base64

    assert base64.b64decode(pdf)[:4] == b"%PDF"
    assert page.errors() == []


def test_slides_render_in_headless_chromium(small_run, tmp_path, browser, cdp_helpers):
    from assay.report.slides import write_slides

    out = write_slides(small_run, tmp_path / "slides.html")
    page = browser(out.as_uri())
    state = cdp_helpers["evaluate"](page, """(() => ({
      slides: [...document.querySelectorAll('section.slide')].map(s => s.id),
      loaded: [...document.images].map(i => i.complete && i.naturalWidth > 0)}))()""")
    assert 8 <= len(state["slides"]) <= 10
    assert state["slides"][0] == "title" and state["slides"][-1] == "limitations"
    assert state["loaded"] and all(state["loaded"])
    cdp_helpers["save_screenshot"](page, "slides_first.png")
    assert page.errors() == []


# ------------------------------------------------------------------------------- other outputs
def test_slides_reuse_report_figures(small_run, tmp_path):
    from assay.report.slides import build_slides

    doc = build_slides(small_run)
    ids = re.findall(r'<section class="slide" id="([^"]+)"', doc)
    assert ids == ["title", "problem", "data", "model-choice", "controls", "training",
                   "generalisation", "explanation", "outliers", "limitations"]
    figs = re.findall(r'<figure data-figure="([^"]+)"', doc)
    assert {"model-comparison", "parity", "learning-curve"} <= set(figs)
    assert len(figs) == len(set(figs))  # no figure twice
    assert "<link" not in doc and all(s.startswith("data:") for s in re.findall(r'\ssrc="([^"]+)"', doc))


def test_matbench_submission_folder(run_copy):
    from assay.evaluation.matbench_format import read_results
    from assay.report.submission import write_submission

    sub = write_submission(run_copy)
    info = json.loads((sub / "info.json").read_text())
    assert set(info) == {"authors", "algorithm", "algorithm_long", "bibtex_refs", "notes", "requirements"}
    assert info["authors"].startswith("FILL IN")
    assert "lgbm" in info["algorithm"] and "Dunn2020" in info["bibtex_refs"]
    assert any(r.startswith("scikit-learn==") for r in info["requirements"]["python"])
    d = read_results(sub / "results.json.gz")  # hash-checked
    folds = d["tasks"]["matbench_steels"]["results"]
    assert sorted(folds) == [f"fold_{k}" for k in range(5)]
    assert sum(len(f["data"]) for f in folds.values()) == 312
    assert gzip.decompress((sub / "results.json.gz").read_bytes()) == gzip.decompress(
        (run_copy / "results.json.gz").read_bytes())


def test_compare_pairs_folds_and_refuses_to_pair_different_folds(small_run, run_copy, tmp_path):
    from assay.report.compare import compare_runs

    doc, info = compare_runs([small_run, run_copy])
    assert all(info["same_folds"].values())
    assert info["paired"] and "Paired fold differences" in doc
    # same predictions: every paired difference of the primary models is zero
    name = f"{run_copy.name}:lgbm"
    assert np.allclose(info["paired"][name], 0.0)
    # tested by the package's one paired test, once in each direction
    same = info["tests"][name]
    assert same["better"]["p_ttest"] == same["worse"]["p_ttest"] == 1.0
    dummy = info["tests"][f"{run_copy.name}:dummy"]
    assert dummy["worse"]["beats"] and not dummy["better"]["beats"]
    assert dummy["better"]["p_ttest"] + dummy["worse"]["p_ttest"] == pytest.approx(1.0)
    assert "p (entry better)" in doc and "p (entry worse)" in doc
    # folds that differ are named and not paired
    p = pd.read_parquet(run_copy / "predictions.parquet")
    p["fold"] = (p["fold"] + 1) % 5
    p.to_parquet(run_copy / "predictions.parquet", index=False)
    doc, info = compare_runs([small_run, run_copy])
    assert info["same_folds"][run_copy.name] is False
    assert "Folds differ" in doc and not any(k.startswith(run_copy.name) for k in info["paired"])


def test_cli_report_slides_compare(run_copy, tmp_path):
    from typer.testing import CliRunner

    from assay.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["report", str(run_copy)])
    assert res.exit_code == 0, res.output
    for name in ("report.html", "report.ipynb", "submission/info.json", "submission/results.json.gz",
                 "submission/notebook.ipynb"):
        assert (run_copy / name).is_file(), name
    res = runner.invoke(app, ["slides", str(run_copy)])
    assert res.exit_code == 0, res.output
    assert (run_copy / "slides.html").is_file()
    res = runner.invoke(app, ["compare", str(run_copy), str(run_copy), "-o", str(tmp_path / "c.html")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "c.html").is_file()
    res = runner.invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 2 and "not a finished assay run" in res.output
