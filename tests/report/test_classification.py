"""The report of a classification run on the user's own data: ROC + confusion from the
predictions, no leaderboard and no Matbench submission (and it says why)."""
from __future__ import annotations

import re

import pytest

from assay.report.report import build_report


@pytest.fixture(scope="module")
def cls_run(tmp_path_factory):
    import dataclasses

    from assay import Experiment
    from assay.run.config import RunConfig
    from assay.data.loading import load_task

    tmp = tmp_path_factory.mktemp("cls")
    ds = load_task("expt_is_metal")
    import pandas as pd

    df = pd.DataFrame({"formula": [str(x) for x in ds.inputs], "is_metal": ds.y().astype(int)})
    df = pd.concat([df[df.is_metal == 1].head(60), df[df.is_metal == 0].head(60)]).sample(
        frac=1, random_state=0)
    csv = tmp / "metals.csv"
    df.to_csv(csv, index=False)
    known = {f.name for f in dataclasses.fields(RunConfig)}
    extra = {k: v for k, v in {"controls": [], "learning_curve": False, "threshold": "none"}.items()
             if k in known}
    res = Experiment(data=str(csv), target="is_metal", models=["dummy", "lgbm"],
                     out_dir=str(tmp / "runs"), **extra).run(progress=False)
    return res.path


def test_classification_report(cls_run, monkeypatch, tmp_path):
    monkeypatch.setenv("ASSAY_CACHE", str(tmp_path / "cache"))
    b, sections, doc = build_report(cls_run)
    figs = set(re.findall(r'<figure id="fig-([^"]+)"', doc))
    assert {"roc", "confusion", "model-comparison", "per-fold"} <= figs
    assert "parity" not in figs
    sec = {s.id: s for s in sections}
    assert "Not applicable" in sec["leaderboard"].html
    assert "Most confident wrong predictions" in sec["outliers"].html
    items = {i.question: i.answer for i in b.facts.checklist}
    assert items["Is the data source named, with a public address?"] == "no"
    assert items["Is the result placed against published results on the same folds?"] == "n/a"
    assert items["Were target outliers identified and their handling stated?"] == "n/a"


def test_no_submission_for_own_data(cls_run):
    from assay.report.commands import make_report

    out = make_report(cls_run, notebook=False)
    assert "submission" not in out and "own data" in out["submission_skipped"]
    assert (cls_run / "report.html").is_file()
