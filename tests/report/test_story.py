"""The report tells the run's real story: the recipe's key step with its measured gain, a
learning-curve reading that follows from the numbers, checklist answers from evidence only, and
a compare page that does not contradict itself."""
from __future__ import annotations

import json
import re
import shutil

import pytest

from assay.report.builder import build_report
from assay.report.compare import compare_runs
from assay.report.evidence import learning_curve_reading, learning_curve_text
from story_runs import threshold_run


@pytest.fixture(scope="session")
def thr_run(shared_base):
    return threshold_run(shared_base)


@pytest.fixture(scope="module")
def thr_report(thr_run):
    return build_report(thr_run)


def _figs(doc):
    return set(re.findall(r'<figure id="fig-([^"]+)"', doc))


def test_threshold_recipe_paragraph_and_plot_only_when_thresholds_were_chosen(thr_report, small_run):
    b, sections, doc = thr_report
    mc = {s.id: s for s in sections}["model-choice"].html
    assert "threshold" in _figs(doc)
    assert "chosen inside each training fold" in mc and "not a bug" in mc
    t = b.facts.thresholds["lgbm"]
    assert len(t["thresholds"]) == 5 and "dummy" not in b.facts.thresholds
    # the table gives each fold's threshold, and both balanced accuracies as the summary has them
    s = b.run.summary["lgbm"]
    assert t["tuned"][0] == pytest.approx(s["balanced_accuracy"]["mean"])
    assert t["half"][0] == pytest.approx(s["balanced_accuracy_at_0.5"]["mean"])
    for x in t["thresholds"]:
        assert f"{x:.3f}" in mc
    cap = b.figures["threshold"].caption
    assert "training rows only" in cap and f"{t['half'][0]:.4f}" in cap
    # a regression run (and a classification run without thresholds) has neither
    b2, _, doc2 = build_report(small_run)
    assert "threshold" not in _figs(doc2) and b2.facts.thresholds is None


def test_no_threshold_paragraph_for_a_classifier_at_0_5(thr_run, tmp_path):
    import pandas as pd

    run = tmp_path / "r"
    shutil.copytree(thr_run, run)
    sc = pd.read_csv(run / "scores.csv").drop(columns=["threshold"])
    sc.to_csv(run / "scores.csv", index=False)
    b, sections, doc = build_report(run)
    assert "threshold" not in _figs(doc) and b.facts.thresholds is None
    assert "0.5 on the predicted probability" in {s.id: s for s in sections}["model-choice"].html
    items = {i.question: i for i in b.facts.checklist}
    assert "fixed before the run" in items["Is the decision threshold stated, and chosen without the test folds?"].evidence


def test_learning_curve_reading_calls_a_train_test_gap_variance():
    curve = {"n_train": [1000, 2000, 4000], "mean": [0.90, 0.94, 0.95], "train": [1.0, 1.0, 1.0]}
    r = learning_curve_reading(curve, higher_is_better=True)
    assert r["diagnosis"] == "variance" and not r["improving"]  # +1.1 % over the last doubling
    text = learning_curve_text(r, "balanced_accuracy")
    assert "variance" in text and "test folds" in text and "validation" not in text
    assert "a more flexible model would widen it" in text
    assert "more flexible model could help" not in text and "close" not in text
    # an improving curve says more data helps, and does not then say more data would not
    r2 = learning_curve_reading({"n_train": [500, 1000], "mean": [0.6, 0.7], "train": [0.71, 0.72]}, True)
    t2 = learning_curve_text(r2, "r2")
    assert r2["diagnosis"] == "bias" and "more data would help" in t2 and "would not" not in t2
    # MAE: lower is better, the gap judged relative to the error
    r3 = learning_curve_reading({"n_train": [100, 200], "mean": [0.40, 0.30], "train": [0.05, 0.05]}, False)
    assert r3["diagnosis"] == "variance" and r3["improving"]


def _answers(run):
    b, _, _ = build_report(run)
    return {i.question: i for i in b.facts.checklist}


LOCO_Q = "Is performance on unseen chemistry (e.g. leave-chemical-system-out) reported?"
RUNS_Q = "Is it stated how many runs were already made on the same test folds?"


def test_checklist_answers_follow_the_evidence(run_copy):
    before = _answers(run_copy)
    assert before[LOCO_Q].answer == "no"
    assert before[RUNS_Q].answer == "no"  # no registry beside this copy
    assert before["Is class imbalance stated, and scored with a metric that it does not flatter?"].answer == "n/a"
    # assay explain's leave-chemical-system-out comparison turns LOCO into a yes, with its numbers
    (run_copy / "trust").mkdir()
    (run_copy / "trust" / "domain.json").write_text(json.dumps({"split_comparison": {
        "metric": "mae", "random_split": 90.1, "leave_chemical_system_out": 130.7, "ratio": 1.45}}))
    # and a registry with two earlier runs on the same data and split is counted
    from assay.store.database import RunDatabase
    from assay.report.run_data import RunData

    r = RunData(run_copy)
    db = RunDatabase(run_copy.parent / "assay.sqlite")
    for rid in ("a", "b", r.run_id):
        db.record_run(rid, task=r.dataset["name"], status="finished", started=rid,
                      config={"split": r.config.get("split", "auto")})
    db.record_run("other", task="matbench_glass", status="finished", started="c", config={})
    after = _answers(run_copy)
    assert after[LOCO_Q].answer == "yes" and "130.7" in after[LOCO_Q].evidence
    assert after[RUNS_Q].answer == "yes" and "3 run(s)" in after[RUNS_Q].evidence
    assert "2 besides this one" in after[RUNS_Q].evidence
    # answers differ between the two runs: nothing is a constant yes
    assert {q for q in before if before[q].answer != after[q].answer} >= {LOCO_Q, RUNS_Q}


def test_checklist_classification_items(thr_report):
    a = {i.question: i for i in thr_report[0].facts.checklist}
    imb = a["Is class imbalance stated, and scored with a metric that it does not flatter?"]
    assert imb.answer == "yes" and "40.0%" in imb.evidence  # 60 of 150 rows are class 0
    thr = a["Is the decision threshold stated, and chosen without the test folds?"]
    assert thr.answer == "yes" and "chosen inside each training fold" in thr.evidence


def test_compare_never_says_different_data_and_same_folds_together(small_run, run_copy):
    cfg = (run_copy / "config.toml").read_text()
    (run_copy / "config.toml").write_text(re.sub(r'(?m)^task = ".*"$', 'task = "matbench_jdft2d"', cfg))
    doc, info = compare_runs([small_run, run_copy])
    assert "Different data" in doc
    assert "same rows in the same folds (checked" not in doc
    assert info["paired"] == {}
    doc2, info2 = compare_runs([small_run, small_run])
    assert "Different data" not in doc2 and "same rows in the same folds" in doc2
