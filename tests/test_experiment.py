import json
import math

import numpy as np
import pandas as pd
import pytest

from assay import Experiment
from assay.data.loading import load_task
from assay.evaluation.matbench_format import read_results
from assay.store.database import RunDatabase


@pytest.mark.parametrize("task,mae,std", [("expt_gap", 1.1435, 0.0310), ("phonons", 323.9822, 17.7269)])
def test_dummy_reproduces_leaderboard(task, mae, std, tmp_path):
    res = Experiment(task=task, models=["dummy"], out_dir=str(tmp_path)).run(progress=False)
    s = res.summary["dummy"]["mae"]
    assert round(s["mean"], 4) == mae
    assert round(s["std"], 4) == std


@pytest.fixture(scope="module")
def steels_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    res = Experiment(task="steels", models=["dummy", "rf", "lgbm"], out_dir=str(out)).run(progress=False)
    return res


def test_run_folder_contents(steels_run):
    p = steels_run.path
    for name in ["config.toml", "dataset.json", "folds.json", "features.json", "scores.csv",
                 "summary.json", "predictions.parquet", "results.json.gz", "summary.html",
                 "run.json", "model.joblib", "audit/audit.json"]:
        assert (p / name).is_file(), name
    assert len(steels_run.scores) == 15
    folds = json.loads((p / "folds.json").read_text())
    assert folds["verified_against_official"] is True


def test_models_beat_dummy_on_steels(steels_run):
    s = steels_run.summary
    assert s["lgbm"]["mae"]["mean"] < 0.7 * s["dummy"]["mae"]["mean"]
    assert s["rf"]["mae"]["mean"] < 0.7 * s["dummy"]["mae"]["mean"]


def test_matbench_results_file(steels_run):
    d = read_results(steels_run.path / "results.json.gz")  # checks the hash
    task = d["tasks"]["matbench_steels"]
    assert set(task["results"]) == {f"fold_{k}" for k in range(5)}
    ids = [i for k in range(5) for i in task["results"][f"fold_{k}"]["data"]]
    assert len(ids) == len(set(ids)) == 312
    ds = load_task("steels")
    p = steels_run.predictions.query("model == 'lgbm'").set_index("id")
    f0 = task["results"]["fold_0"]
    assert math.isclose(f0["scores"]["mae"],
                        np.mean(np.abs(p.loc[list(f0["data"]), "y_true"] - pd.Series(f0["data"]))),
                        rel_tol=1e-9)
    assert ds.target.loc[list(f0["data"])].tolist() == p.loc[list(f0["data"]), "y_true"].tolist()


def test_predictions_cover_every_row_once_per_model(steels_run):
    p = steels_run.predictions
    for model, g in p.groupby("model"):
        assert len(g) == 312 and g["id"].is_unique


def test_run_recorded_in_database(steels_run):
    db = RunDatabase(steels_run.path.parent / "assay.sqlite")
    runs = db.list_runs()
    row = runs[runs.run_id == steels_run.run_id].iloc[0]
    assert row.status == "finished" and row.primary_model == "lgbm"
    assert math.isclose(row.primary_mean, steels_run.summary["lgbm"]["mae"]["mean"])
    assert len(db.fold_scores(steels_run.run_id)) > 0


def test_resume_after_lost_fold_gives_same_numbers(steels_run, tmp_path):
    import shutil

    copy = tmp_path / steels_run.run_id
    shutil.copytree(steels_run.path, copy)
    (copy / "folds" / "lgbm" / "fold_3.json").unlink()
    before = {f: (copy / "folds" / "rf" / f).stat().st_mtime_ns for f in ["fold_0.json"]}
    res = Experiment(task="steels", models=["dummy", "rf", "lgbm"], out_dir=str(tmp_path)).run(progress=False)
    assert (copy / "folds" / "lgbm" / "fold_3.json").is_file()
    assert (copy / "folds" / "rf" / "fold_0.json").stat().st_mtime_ns == before["fold_0.json"]
    pd.testing.assert_frame_equal(res.scores.drop(columns="fit_seconds"),
                                  steels_run.scores.drop(columns="fit_seconds"))


def test_same_seed_same_numbers(steels_run, tmp_path):
    res = Experiment(task="steels", models=["lgbm"], out_dir=str(tmp_path)).run(progress=False)
    a = steels_run.scores.query("model == 'lgbm'").reset_index(drop=True)
    pd.testing.assert_frame_equal(res.scores.drop(columns="fit_seconds"),
                                  a.drop(columns="fit_seconds"))


def test_user_classification_data(tmp_path):
    ds = load_task("glass")
    rows = np.random.default_rng(0).choice(len(ds), 400, replace=False)
    df = pd.DataFrame({"formula": ds.inputs.iloc[rows].values, "glass": ds.target.iloc[rows].values.astype(bool)})
    f = tmp_path / "mine.csv"
    df.to_csv(f, index=False)
    res = Experiment(data=str(f), target="glass", models=["dummy", "lgbm"], split="stratified",
                     learning_curve=False, out_dir=str(tmp_path / "runs")).run(progress=False)
    s = res.summary
    assert s["dummy"]["balanced_accuracy"]["mean"] == pytest.approx(0.5)
    assert s["lgbm"]["roc_auc_true"]["mean"] > 0.75
    assert s["lgbm"]["rocauc"]["mean"] == pytest.approx(s["lgbm"]["balanced_accuracy"]["mean"])
    assert not (res.path / "results.json.gz").exists()  # no Matbench file for non-Matbench data
    # the decision threshold is chosen inside each training fold and recorded per fold
    for k in range(5):
        fold = json.loads((res.path / "folds" / "lgbm" / f"fold_{k}.json").read_text())
        assert 0 < fold["threshold"]["threshold"] < 1
        assert fold["scores"]["threshold"] == fold["threshold"]["threshold"]
        # the tuned threshold is the model's decision rule: its hard labels are what is scored
        tuned = (np.asarray(fold["y_proba"]) >= fold["threshold"]["threshold"]).astype(int)
        assert fold["y_pred"] == tuned.tolist()
        assert "balanced_accuracy_at_0.5" in fold["scores"]
    assert "balanced_accuracy_tuned" in s["lgbm"]


def test_cleaning_touches_training_rows_only(tmp_path):
    steps = [{"step": "winsorize", "lower": 0.05, "upper": 0.95}]
    res = Experiment(task="steels", models=["dummy"], cleaning=steps, out_dir=str(tmp_path)).run(progress=False)
    ds = load_task("steels")
    p = res.predictions.set_index("id")
    # test targets are the raw ones, including the extremes that winsorising would have capped
    assert p["y_true"].max() == ds.target.max() and p["y_true"].min() == ds.target.min()
    fold = json.loads((res.path / "folds" / "dummy" / "fold_0.json").read_text())
    assert fold["cleaning"] is not None
    assert "threshold" not in fold["scores"]  # regression: no decision threshold


def test_resume_after_kill_gives_the_same_numbers(steels_run, tmp_path):
    """A real kill: `assay run` in a subprocess, killed once its first fold files appear,
    started again; the final numbers equal the uninterrupted run's."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "runs"
    cmd = [sys.executable, "-m", "assay.cli", "run", "steels", "--models", "dummy,rf,lgbm",
           "--out", str(out), "-q"]
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    run_dir = out / steels_run.run_id
    deadline = time.time() + 240
    try:
        while time.time() < deadline and proc.poll() is None:
            if len(list(run_dir.glob("folds/*/fold_*.json"))) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (run_dir / "summary.json").exists()
    n_before = len(list(run_dir.glob("**/fold_*.json")))
    assert n_before >= 2
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    res = Experiment(task="steels", models=["dummy", "rf", "lgbm"], out_dir=str(out)).run(progress=False)
    pd.testing.assert_frame_equal(res.scores.drop(columns="fit_seconds"),
                                  steels_run.scores.drop(columns="fit_seconds"))
    assert json.loads((run_dir / "comparison.json").read_text())["rows"] == steels_run.comparison["rows"]
    assert json.loads((run_dir / "learning_curve.json").read_text()) == steels_run.learning_curve


def test_controls_and_learning_curve_for_the_primary(steels_run):
    p = steels_run.path
    comp = json.loads((p / "comparison.json").read_text())
    assert comp["controls"]["models"] == ["lgbm"]
    assert "per-element" in comp["controls"]["random_features"]
    versus = {(r["model"], r["versus"]) for r in comp["rows"]}
    assert ("lgbm", "lgbm [scrambled-target]") in versus and ("lgbm", "dummy") in versus
    assert (p / "learning_curve.png").stat().st_size > 1000
    assert [s["fraction"] for s in steels_run.learning_curve["curves"][0]["sizes"]] == [0.1, 0.3, 0.6, 1.0]


def test_extra_split_and_montecarlo(tmp_path):
    res = Experiment(task="steels", models=["dummy", "ridge"], split="montecarlo", n_folds=3,
                     extra_splits=["loco"], controls=[], learning_curve=False,
                     out_dir=str(tmp_path)).run(progress=False)
    folds = json.loads((res.path / "folds.json").read_text())
    assert folds["split"] == "montecarlo" and folds["partition"] is False and len(folds["test_indices"]) == 3
    assert not (res.path / "results.json.gz").exists()  # not the official folds: no submission file
    extra = json.loads((res.path / "extra_splits.json").read_text())
    assert extra["loco"]["overlap"]["mean_chemsys_seen_share"] == 0.0
    assert set(extra["loco"]["summary"]) == {"dummy", "ridge"}
