"""``assay slides`` as a talk: slides.html and slides.pptx with 8-10 slides, speaker notes on
every slide, and numbers equal to those in summary.json / comparison.json (regression: the
shared steels run; classification: a small glass run made here)."""
import json
import os
import re
import shutil

import pandas as pd
import pytest
from pptx import Presentation
from typer.testing import CliRunner

from assay import Experiment, RunConfig
from assay.cli import app
from assay.report.evidence import learning_curve_reading, learning_curve_text
from assay.report.html import fmt
from assay.report.slides import write_slides


def _glass(out):
    from assay.data.loading import load_task

    old = os.environ.get("ASSAY_CACHE")
    os.environ["ASSAY_CACHE"] = str(out / "cache")
    try:
        ds = load_task("glass")
        out.mkdir(parents=True, exist_ok=True)
        csv = out / "glass.csv"
        pd.DataFrame({"formula": list(ds.inputs[:150]), "gfa": list(ds.target[:150])}).to_csv(csv, index=False)
        cfg = RunConfig(data=str(csv), target="gfa", models=["dummy", "rf"], controls=["random-features"],
                        learning_curve_sizes=[0.5, 1.0], n_folds=3, out_dir=str(out / "runs"))
        return Experiment(cfg).run(progress=False).path
    finally:
        if old is None:
            os.environ.pop("ASSAY_CACHE", None)
        else:
            os.environ["ASSAY_CACHE"] = old


@pytest.fixture(scope="module")
def glass_run(tmp_path_factory):
    return _glass(tmp_path_factory.mktemp("glass-small"))


def _deck(run, tmp_path):
    html = write_slides(run, tmp_path / "slides.html")
    prs = Presentation(str(tmp_path / "slides.pptx"))
    texts = ["\n".join(sh.text_frame.text for sh in s.shapes if sh.has_text_frame) for s in prs.slides]
    notes = [s.notes_slide.notes_text_frame.text if s.has_notes_slide else "" for s in prs.slides]
    return html.read_text(), prs, texts, notes


def _controls(run, metric):
    comp = json.loads((run / "comparison.json").read_text())
    return {f"{m} [{v}]": d[metric]["mean"] if metric in d else d["mean"]
            for m, by in comp["controls"]["summary"].items() for v, d in by.items()}


@pytest.mark.parametrize("which", ["steels", "glass"])
def test_pptx_is_a_talk_with_notes_and_the_runs_numbers(which, small_run, glass_run, tmp_path):
    run = small_run if which == "steels" else glass_run
    doc, prs, texts, notes = _deck(run, tmp_path)
    assert 8 <= len(prs.slides) <= 10
    assert all(len(n) > 40 for n in notes), notes
    assert "Author: [your name]" in texts[0]
    joined = "\n".join(texts)
    info = json.loads((run / "run.json").read_text())
    prim, metric = info["primary_model"], info["primary_metric"]
    summary = json.loads((run / "summary.json").read_text())
    for m, s in summary.items():  # every model's fold mean and std, as summary.json has them
        assert f"{fmt(s[metric]['mean'])} ± {fmt(s[metric]['std'])}" in joined, m
    for name, mu in _controls(run, metric).items():  # controls, and their ratio to the model
        ratio = mu / summary[prim][metric]["mean"]
        assert f"{fmt(mu)}" in joined and f"{ratio:.0%} of the model's" in joined, name
    titles = [t.splitlines()[0] for t in texts]
    assert {"Model choice and why", "Training and testing", "What the model uses",
            "Outliers worth a look", "Limitations and next steps"} <= set(titles)
    if which == "glass":
        s = summary[prim]
        assert "balanced accuracy (the leaderboard's 'rocauc'" in joined
        assert "ROC-AUC from the predicted probabilities: " + fmt(s["roc_auc_true"]["mean"]) in joined
        assert f"vs {fmt(s['balanced_accuracy_at_0.5']['mean'])} at 0.5" in joined
    else:
        assert "MAE (mean absolute error): " + fmt(summary[prim]["mae"]["mean"]) in joined
        assert "Rank " in joined
    # the HTML deck is the same talk
    assert len(re.findall(r'<section class="slide"', doc)) == len(prs.slides)
    assert doc.count('<details class="notes">') == len(prs.slides)
    assert any(sh.shape_type == 13 for s in prs.slides for sh in s.shapes)  # figures placed


def test_explanation_slide_uses_trust_when_explain_ran(glass_run, tmp_path):
    from assay.explanation.trust import explain_run

    run = tmp_path / "run"
    shutil.copytree(glass_run, run)
    _, _, texts, _ = _deck(run, tmp_path)
    expl = next(t for t in texts if t.startswith("What the model uses"))
    assert "assay explain" in expl and "SHAP|" not in expl
    explain_run(run, shap_rows=40, n_inner=3, loco=False, quantile=False, n_repeats=1,
                max_perm_features=20, progress=False)
    _, prs, texts, _ = _deck(run, tmp_path)
    expl = next(t for t in texts if t.startswith("What the model uses"))
    imp = json.loads((run / "trust" / "importance.json").read_text())
    top = imp["shap"]["mean_abs"][0]
    assert f"Largest mean |SHAP|: {top['feature']} ({top['group']}, {fmt(top['mean_abs_shap'])})" in expl
    assert fmt(imp["permutation"]["features"][0]["importance"]) in expl
    assert "SHAP summary" in expl  # the figure's caption beside the SHAP plot


def test_learning_curve_reading_calls_a_gap_variance():
    c = {"n_train": [100, 200], "mean": [0.945, 0.95], "train": [1.0, 1.0]}
    r = learning_curve_reading(c, higher_is_better=True)
    assert r["diagnosis"] == "variance" and not r["improving"]
    text = learning_curve_text(r, "balanced accuracy")
    assert "variance" in text and "test folds" in text and "validation" not in text
    assert "more flexible model would widen" in text
    c = {"n_train": [100, 200], "mean": [0.70, 0.71], "train": [0.72, 0.72]}
    assert learning_curve_reading(c, True)["diagnosis"] == "bias"
    c = {"n_train": [100, 200], "mean": [100.0, 80.0], "train": [30.0, 35.0]}  # MAE
    r = learning_curve_reading(c, higher_is_better=False)
    assert r["diagnosis"] == "variance" and r["improving"]


def test_cli_slides_writes_html_and_pptx(run_copy):
    res = CliRunner().invoke(app, ["slides", str(run_copy)])
    assert res.exit_code == 0, res.output
    assert (run_copy / "slides.html").is_file() and (run_copy / "slides.pptx").is_file()
    assert "slides.pptx" in res.output
