"""evaluate_on_run: a student's model on a finished run's folds, the way the run judged its own:
same folds, same scores for a recorded model, both controls, paired tests, nothing written."""
from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler

from assay import Experiment, RunConfig, evaluate_on_run, load_run_inputs
from assay.run.folder import RunFolder

from run_helpers import subset_task_file


def _tiny_run(task: str, models: list[str], tmp_path_factory, controls):
    """80 rows, 5-fold k-fold; its feature cache is its own (returned beside)."""
    out = tmp_path_factory.mktemp(task)
    data = subset_task_file(task, 80, out)
    if data is None:
        pytest.skip(f"{task} data not available")
    cfg = RunConfig(task=task, data=str(data), split="kfold", n_folds=5, models=models,
                    features="composition-fast", learning_curve=False, out_dir=str(out / "runs"),
                    controls=controls)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ASSAY_CACHE", str(out / "cache"))
        return Experiment(cfg).run(progress=False).path, out / "cache"


@pytest.fixture(scope="module")
def _reg(tmp_path_factory):
    return _tiny_run("matbench_steels", ["dummy", "ridge"], tmp_path_factory,
                     ["random-features", "scrambled-target"])


@pytest.fixture(scope="module")
def _cls(tmp_path_factory):
    return _tiny_run("matbench_glass", ["dummy", "logistic"], tmp_path_factory, [])


@pytest.fixture
def reg_run(_reg, monkeypatch):
    monkeypatch.setenv("ASSAY_CACHE", str(_reg[1]))  # the cache the run filled
    return _reg[0]


@pytest.fixture
def cls_run(_cls, monkeypatch):
    monkeypatch.setenv("ASSAY_CACHE", str(_cls[1]))
    return _cls[0]


def _files(path):
    return {str(p.relative_to(path)): p.stat().st_mtime_ns for p in path.rglob("*") if p.is_file()}


def _check(run, mine, name, recorded_models, controls=("random-features", "scrambled-target")):
    f = RunFolder(run)
    # the same outer folds: same test rows, in the same order, as every recorded model
    recorded = f.predictions()
    for x in mine.folds:
        ids = recorded[(recorded["model"] == "dummy") & (recorded["fold"] == x.fold)]["id"].tolist()
        assert x.ids == ids
    assert len(mine.folds) == 5 and mine.fold_scores()[name].notna().all()
    assert list(mine.controls) == list(controls)
    assert all(len(v) == 5 for v in mine.controls.values())
    own = [f"{name} [{c}]" for c in controls]
    assert list(mine.table().index) == [name, *recorded_models, *own]
    tests = mine.comparison()
    assert list(tests.index) == [*recorded_models, *own]
    assert tests.loc["dummy", "kind"] == "baseline" and tests["p_ttest"].notna().all()
    assert json.loads(json.dumps(mine.to_dict()))["name"] == name


def test_regression_own_model_same_folds_controls_and_tests(reg_run):
    before = _files(reg_run)
    data = load_run_inputs(reg_run)
    assert data.features_from_cache and data.X.shape == (80, len(data.labels))
    mine = evaluate_on_run(data, make_pipeline(SimpleImputer(), Ridge(alpha=10.0)), name="mine")
    _check(reg_run, mine, "mine", ["dummy", "ridge"])
    # a recorded model evaluated again scores exactly what the run recorded, fold by fold
    again = evaluate_on_run(data, "ridge", name="ridge again", controls=["scrambled-target"])
    assert again.fold_scores()["ridge again"].tolist() == again.recorded["ridge"]
    recorded_ctrl = RunFolder(reg_run).comparison().controls["fold_scores"]["ridge"]["scrambled-target"]
    assert [x.metric("mae") for x in again.controls["scrambled-target"]] == recorded_ctrl
    assert _files(reg_run) == before  # nothing written into the run folder


def test_classification_own_model_uses_the_runs_threshold_rule(cls_run, tmp_path):
    data = load_run_inputs(cls_run)
    model = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(C=0.5))
    mine = evaluate_on_run(data, model, name="mine", out_dir=tmp_path, controls=["scrambled-target"])
    _check(cls_run, mine, "mine", ["dummy", "logistic"], ["scrambled-target"])
    # the threshold is chosen inside each training fold, as for the recorded classifier
    assert all(t is not None and 0 < t < 1 for t in mine.thresholds())
    again = evaluate_on_run(data, "logistic", name="logistic again", controls=[])
    recorded = sorted((x for x in RunFolder(cls_run).fold_results("main") if x.model == "logistic"),
                      key=lambda x: x.fold)
    assert again.thresholds() == [x.threshold["threshold"] for x in recorded]
    assert again.fold_scores()["logistic again"].tolist() == again.recorded["logistic"]
    assert len(list((tmp_path / "mine" / "folds").glob("fold_*.json"))) == 5  # kept where asked


def test_refusals_are_named(reg_run):
    data = load_run_inputs(reg_run)
    with pytest.raises(ValueError, match="already a model"):
        evaluate_on_run(data, Ridge(), name="ridge")
    with pytest.raises(ValueError, match="unknown control"):
        evaluate_on_run(data, Ridge(), controls=["shuffled"])
    assert np.array_equal(data.folds[0][1], RunFolder(reg_run).test_folds()[0][1])
