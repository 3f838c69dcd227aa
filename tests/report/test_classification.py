"""The report of a classification run on the user's own data: ROC + confusion from the
predictions, no leaderboard and no Matbench submission (and it says why)."""
from __future__ import annotations

import re

import pytest

from assay.report.report import build_report
from story_runs import threshold_run


@pytest.fixture(scope="module")
def cls_run(shared_base):
    """150 rows of expt_is_metal as your own data; threshold chosen per training fold (the run
    the story and consistency tests share, built once per session)."""
    return threshold_run(shared_base)


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
