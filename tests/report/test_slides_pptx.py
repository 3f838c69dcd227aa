"""``assay slides`` as a talk: slides.html and slides.pptx with 8-10 slides, speaker notes on
every slide, the same numbers in both, numbers written for people, metrics named, reasons
rather than scores (regression: the shared steels run; classification: a small glass run)."""
import json
import os
import re
import shutil
import subprocess
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from pptx import Presentation
from typer.testing import CliRunner

from assay import Experiment, RunConfig
from assay.cli import app
from assay.report.evidence import learning_curve_reading, learning_curve_text
from assay.report.slides import write_slides
from assay.report.slides_evidence import chemsys_seen_share, scaling_models
from assay.report.slides_words import describe_feature, num, pct, pm, pval, tidy_numbers

NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?%?")


def _glass(out):
    from assay.data.loading import load_task

    old = os.environ.get("ASSAY_CACHE")
    os.environ["ASSAY_CACHE"] = str(out / "cache")
    try:
        ds = load_task("glass")
        out.mkdir(parents=True, exist_ok=True)
        csv = out / "glass.csv"
        pd.DataFrame({"formula": list(ds.inputs[:150]), "gfa": list(ds.target[:150])}).to_csv(csv, index=False)
        cfg = RunConfig(data=str(csv), target="gfa", models=["dummy", "lgbm"], controls=["random-features"],
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


def _html_slides(doc):
    """slide id -> its visible text (title, bullets, caption, foot; not the notes)."""
    out = {}
    for sid, body in re.findall(r'<section class="slide" id="([^"]+)".*?>(.*?)</section>', doc, re.S):
        body = re.sub(r'<aside class="notes".*?</aside>', "", body, flags=re.S)
        body = re.sub(r'<img [^>]*>', "", body)
        out[sid] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).replace("&#x27;", "'")
    return out


def _deck(run, tmp_path):
    html = write_slides(run, tmp_path / "slides.html")
    prs = Presentation(str(tmp_path / "slides.pptx"))
    texts = ["\n".join(sh.text_frame.text for sh in s.shapes if sh.has_text_frame) for s in prs.slides]
    notes = [s.notes_slide.notes_text_frame.text if s.has_notes_slide else "" for s in prs.slides]
    return html.read_text(), prs, texts, notes


@pytest.mark.parametrize("which", ["steels", "glass"])
def test_pptx_and_html_are_the_same_talk_in_peoples_numbers(which, small_run, glass_run, tmp_path):
    run = small_run if which == "steels" else glass_run
    doc, prs, texts, notes = _deck(run, tmp_path)
    assert 8 <= len(prs.slides) <= 10
    assert all(len(n) > 60 for n in notes), notes  # speaker notes on every slide
    assert "Author: [your name]" in texts[0] and "Dataset: " in texts[0] and "Date: " in texts[0]
    titles = [t.splitlines()[0] for t in texts]
    assert {"Data and preparation", "Model choice and why", "Training and testing", "What the model uses",
            "Outliers worth a look", "Limitations and next steps"} <= set(titles)
    assert len(set(titles)) == len(titles)
    joined = "\n".join(texts)
    assert not re.search(r"\d\.\d+e[-+]?\d", joined), "no 5.182e-07 on a slide"
    assert "{" not in joined and "}" not in joined, "no raw dict text"
    # the HTML deck says the same: same slides, and on each slide the same numbers
    html = _html_slides(doc)
    assert len(html) == len(prs.slides) and doc.count('<aside class="notes"') == len(prs.slides)
    for (sid, h), p in zip(html.items(), texts):
        assert sorted(NUMBER.findall(h)) == sorted(NUMBER.findall(p)), sid
    info = json.loads((run / "run.json").read_text())
    prim, metric = info["primary_model"], info["primary_metric"]
    summary = json.loads((run / "summary.json").read_text())
    for m, s in summary.items():  # every model's fold mean ± std, 3 significant figures
        assert pm(s[metric]["mean"], s[metric]["std"]) in joined, m
    comp = json.loads((run / "comparison.json").read_text())
    for model, by in comp["controls"]["summary"].items():  # the control as a share of the model
        mu = by["random-features"][metric]["mean"]
        assert (f"Random per-element vectors (each element a fixed random vector, {model}): {num(mu)} = "
                f"{pct(mu / summary[model][metric]['mean'])} of the model's") in joined
    assert "Scaling: none needed" in joined  # neither dummy nor lgbm scales
    if which == "glass":
        s = summary[prim]
        assert "rocauc (Matbench: balanced accuracy of hard labels): " + pm(s["rocauc"]["mean"], s["rocauc"]["std"]) in joined
        assert "ROC-AUC of probabilities: " + pm(s["roc_auc_true"]["mean"], s["roc_auc_true"]["std"]) in joined
        assert (f"balanced accuracy {num(s['balanced_accuracy']['mean'])} against "
                f"{num(s['balanced_accuracy_at_0.5']['mean'])} at 0.5") in joined
        assert "Decision threshold chosen inside each training fold" in joined
    else:
        assert "MAE (mean absolute error): " + pm(summary[prim]["mae"]["mean"], summary[prim]["mae"]["std"]) + " MPa" in joined
        assert "p < 0.001" in joined and "Rank " in joined and "% of test rows have a chemical system" in joined
    assert any(sh.shape_type == 13 for s in prs.slides for sh in s.shapes)  # figures placed
    for s in prs.slides:  # every picture inside the slide
        for sh in s.shapes:
            if sh.shape_type == 13:
                assert sh.left >= 0 and sh.top >= 0
                assert sh.left + sh.width <= prs.slide_width and sh.top + sh.height <= prs.slide_height
    figs = re.findall(r'<figure data-figure="([^"]+)"', doc)
    assert len(figs) == len(set(figs))  # no figure twice


def test_explanation_slide_speaks_the_features_words(glass_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(glass_run, run)
    _, _, texts, _ = _deck(run, tmp_path)
    expl = next(t for t in texts if t.startswith("What the model uses"))
    assert "Not SHAP: the refit lgbm's own split importance" in expl  # importance, and says which
    # what assay explain writes (its own tests check the numbers): SHAP of three features
    labels = json.loads((run / "features.json").read_text())["labels"]
    feats = ["MagpieData range CovalentRadius", "MagpieData mean Electronegativity", labels[-1]]
    (run / "trust").mkdir()
    (run / "trust" / "importance.json").write_text(json.dumps({"shap": {
        "method": "tree", "n_rows": 30, "mean_abs": [
            {"feature": f, "group": "x", "mean_abs_shap": v} for f, v in zip(feats, (0.5, 0.3, 0.2))]}}))
    shutil.copy(run / "learning_curve.png", run / "trust" / "shap_summary.png")
    _, _, texts, notes = _deck(run, tmp_path)
    i = next(i for i, t in enumerate(texts) if t.startswith("What the model uses"))
    assert "spread of atomic (covalent) radius (largest minus smallest): 50%; higher values make gfa = 1" in texts[i]
    assert "average electronegativity (by atomic fraction): 30%" in texts[i]
    assert re.search(r"gfa = 1 (more|less) likely \(ρ = [-+]0\.\d\d\)", texts[i])  # direction, measured
    assert "By physical group: atomic size 50%, electronegativity 30%" in texts[i]
    assert "SHAP (tree) on 30 held-out rows" in texts[i] and "SHAP summary" in texts[i]
    assert "MagpieData range CovalentRadius" in notes[i]  # the speaker hears the raw label, the audience the words


def test_numbers_and_words_for_people():
    assert num(5.182e-07) == "≈ 0" and pval(5.182e-07) == "p < 0.001" and pval(0.0312) == "p = 0.031"
    assert num(1234.5) == "1,230" and num(np.int64(80)) == "80" and num(0.04123) == "0.0412"
    assert pm(0.86123, 0.01234) == "0.861 ± 0.012" and pm(104.2, 11.7) == "104 ± 12"
    assert pm(0.5, 0.0) == "0.500 ± 0" and pm(0.861, 0.0001) == "0.861 ± 0.0001"
    assert tidy_numbers("mean 0.8862, 1.5 IQR, 5.182e-07") == "mean 0.886, 1.5 IQR, ≈ 0"
    assert describe_feature("MagpieData range CovalentRadius") == "spread of atomic (covalent) radius (largest minus smallest)"
    assert describe_feature("MagpieData mean Electronegativity") == "average electronegativity (by atomic fraction)"
    assert describe_feature("Fe") == "fraction of Fe" and describe_feature("0-norm") == "number of elements"
    assert describe_feature("my own feature") == "my own feature"


def test_scaling_claim_follows_the_pipelines_and_overlap_is_counted():
    run = SimpleNamespace(models=["dummy", "lgbm", "knn", "svm", "mine"], task_type="regression")
    assert scaling_models(run) == {"dummy": False, "lgbm": False, "knn": True, "svm": True}
    run = SimpleNamespace(audit=None, inputs={"a": "Fe2O3", "b": "FeO", "c": "NiO", "d": "CuZr"},
                          test_fold=np.array([0, 1, 0, 1]))
    # fold 0 tests Fe2O3 (Fe-O seen in fold 1's FeO) and NiO (unseen); fold 1: FeO seen, CuZr not
    assert chemsys_seen_share(run) == pytest.approx(0.5)
    run.audit = {"overlap": {"mean_chemsys_seen_share": 0.9}}
    assert chemsys_seen_share(run) == 0.9


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


def test_cli_slides_writes_html_and_pptx_that_print_one_page_per_slide(run_copy, tmp_path):
    res = CliRunner().invoke(app, ["slides", str(run_copy)])
    assert res.exit_code == 0, res.output
    html = run_copy / "slides.html"
    assert html.is_file() and (run_copy / "slides.pptx").is_file()
    assert "slides.pptx" in res.output
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        pytest.skip("chromium is not installed: the PDF page count is not checked")
    n = html.read_text().count('<section class="slide"')
    pdf = tmp_path / "s.pdf"
    subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--print-to-pdf={pdf}", html.as_uri()],
                   check=True, timeout=120, capture_output=True)
    assert len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes())) == n  # one page per slide
