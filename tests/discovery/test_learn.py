"""Simulated active learning: on a target whose answer is known, the strategies must do what
they claim, and the records must be complete and reproducible."""
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor
from typer.testing import CliRunner

from assay.cli import app
from assay.discovery.acquisition import Goal, GoalError, expected_improvement, farthest_points
from assay.discovery.learn import LearnSettings, simulate
from assay.models.entries import resolve_models


def outlier_target(n=400, k=20, seed=0):
    """Most rows in one blob with a dull target; the k best materials sit in four small, distant
    clusters (unusual chemistry), as the most interesting materials tend to."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = 0.3 * X[:, 0] + 0.1 * rng.normal(size=n)
    centres = rng.normal(size=(4, 4))
    centres = 5 * centres / np.linalg.norm(centres, axis=1, keepdims=True)
    far = rng.choice(n, k, replace=False)
    X[far] = centres[np.arange(k) % 4] + 0.3 * rng.normal(size=(k, 4))
    y[far] = 3 + 0.2 * rng.normal(size=k)
    return X, y


def test_uncertainty_finds_the_top_materials_in_fewer_rounds_than_random():
    X, y = outlier_target()
    entry = resolve_models({"et": ExtraTreesRegressor(n_estimators=40)})["et"]
    s = LearnSettings(strategies=("random", "uncertainty"), initial=20, batch=5, rounds=6,
                      repeats=3, goal="top5%")
    sim = simulate(X, y, "regression", entry, s)
    st = sim.summary["strategies"]
    assert sim.n_goal == 20 and sim.uncertainty == "per-tree spread"
    # more found, averaged over repeats, at the end and over the whole curve
    assert st["uncertainty"]["final_found"] > st["random"]["final_found"] + 2
    assert st["uncertainty"]["mean_found_over_rounds"] > st["random"]["mean_found_over_rounds"]
    # and as many as random finds with the whole budget, with fewer experiments
    need = st["uncertainty"]["experiments_to_baseline_found"]
    assert need is not None and need < st["random"]["n_labelled_final"]
    # every round is recorded: 3 repeats x 2 strategies x 7 rounds; the initial rows are shared
    assert len(sim.records) == 3 * 2 * 7
    first = {(r["strategy"], r["repeat"]): r["found"] for r in sim.records if r["round"] == 0}
    assert all(first[("random", k)] == first[("uncertainty", k)] for k in range(3))
    again = simulate(X, y, "regression", entry, s)
    assert [r["found"] for r in again.records] == [r["found"] for r in sim.records]


def test_classification_goal_and_diversity_run():
    X, y = outlier_target(n=200, k=12, seed=1)
    yc = (y > 2).astype(int)
    entry = resolve_models({"et": ExtraTreesClassifier(n_estimators=20)})["et"]
    s = LearnSettings(strategies=("random", "expected-improvement", "diversity"), initial=15,
                      batch=5, rounds=2, repeats=2)
    sim = simulate(X, yc, "classification", entry, s)
    assert sim.metric == "balanced_accuracy" and sim.goal["kind"] == "class"
    assert all(0 <= r["value"] <= 1 for r in sim.records)
    assert {r["n_labelled"] for r in sim.records} == {15, 20, 25}


def test_goals_and_acquisitions():
    y = np.arange(100.0)
    assert Goal.parse(None, "regression").members(y).sum() == 1
    assert Goal.parse("bottom10%", "regression").members(y).sum() == 10
    assert Goal.parse("above:89.5", "regression").members(y).sum() == 10
    assert Goal.parse("class:glass", "classification", {0: "no", 1: "glass"}).value == 1
    with pytest.raises(GoalError):
        Goal.parse("top", "regression")
    with pytest.raises(GoalError):
        Goal.parse("class:maybe", "classification", {0: "no", 1: "yes"})
    # EI prefers a high mean at equal spread, and a wide spread at equal mean
    ei = expected_improvement([1.0, 2.0, 1.0], [0.1, 0.1, 1.0], best=1.5)
    assert ei[1] > ei[0] and ei[2] > ei[0]
    assert expected_improvement([1.0], [0.1], best=1.5, sign=-1)[0] > 0.4  # minimising
    # farthest point: the far row first, then not its neighbour
    Z = np.array([[0, 0], [0.1, 0], [10, 10], [10.1, 10], [5, 5]])
    assert list(farthest_points(Z, [0], np.array([1, 2, 3, 4]), 2)) == [3, 4]


def test_learn_cli_writes_the_learn_folder(tmp_path):
    X, y = outlier_target(n=120, k=8, seed=2)
    df = pd.DataFrame({"formula": ["NaCl", "KBr", "MgO", "CaO", "Fe2O3", "Al2O3"] * 20, "y": y})
    df.to_csv(tmp_path / "d.csv", index=False)
    r = CliRunner().invoke(app, ["learn", str(tmp_path / "d.csv"), "--target", "y", "--initial", "20",
                                 "--batch", "5", "--rounds", "2", "--repeats", "1", "--goal", "top10%",
                                 "--strategies", "random,diversity", "--model", "knn",
                                 "--out-dir", str(tmp_path / "runs"), "-q"])
    assert r.exit_code == 0, r.output
    out = next((tmp_path / "runs").glob("*/learn"))
    d = json.loads((out / "learn.json").read_text())
    assert (out / "curves.png").is_file() and d["settings"]["strategies"] == ["random", "diversity"]
    assert d["uncertainty"].startswith("bootstrap")  # knn is no forest
    assert set(d["summary"]["strategies"]) == {"random", "diversity"} and d["lines"]
    assert all(isinstance(i, str) for rec in d["records"] for i in rec.get("picked", []))
    bad = CliRunner().invoke(app, ["learn", str(tmp_path / "d.csv"), "--target", "y",
                                   "--strategies", "random,psychic", "-q"])
    assert bad.exit_code == 2 and "psychic" in bad.output
