"""``auto``: a (feature subset, model) chosen by inner CV on the training rows only, within a budget."""
import json
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from assay import Experiment, recipe_config
from assay.models.auto import AutoClassifier, AutoRegressor, feature_subsets
from assay.models.zoo import make_model
from assay.report.run_data import RunData
from assay.report.sections.model_choice import _selection_table
from assay.run.config import RunConfig


@parametrize_with_checks([
    AutoRegressor(models=[("ridge", Ridge()), ("mean", DummyRegressor())], cv=2),
    AutoClassifier(models=[("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
                           ("prior", DummyClassifier())], cv=2),
])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _tree():
    return DecisionTreeRegressor(max_depth=4, random_state=0)


def test_linear_signal_chooses_ridge():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.01 * rng.normal(size=200)
    m = AutoRegressor(models=[("mean", DummyRegressor()), ("tree", _tree()), ("ridge", Ridge())]).fit(X, y)
    assert m.chosen_["model"] == "ridge" and m.chosen_["metric"] == "mae"
    assert [c["candidate"] for c in m.chosen_["candidates"]] == ["mean", "tree", "ridge"]
    scores = {c["candidate"]: c["score"] for c in m.chosen_["candidates"]}
    assert scores["ridge"] < scores["tree"] < scores["mean"]
    assert isinstance(m.estimator_, Ridge)


def test_chooses_the_feature_subset_that_carries_the_signal():
    # the target depends on the element fractions only; the other columns are noise that
    # ruins nearest neighbours on all columns
    rng = np.random.default_rng(1)
    n = 240
    frac = rng.dirichlet(np.ones(3), size=n)
    noise = rng.normal(size=(n, 12)) * 5
    X = np.column_stack([frac, noise])
    y = frac @ np.array([3.0, -1.0, 0.0]) * 10
    names = ["Fe", "Ni", "Cr"] + [f"MagpieData noise {i}" for i in range(12)]
    assert set(feature_subsets(names, X.shape[1], ("all", "fractions", "no-fractions", "composition"))) == \
        {"all", "fractions", "no-fractions"}  # 'composition' equals 'all' here: left out
    m = AutoRegressor(models=[("knn", KNeighborsRegressor(5))], subsets=("all", "fractions", "no-fractions"),
                      feature_names=names).fit(X, y)
    assert m.chosen_["subset"] == "fractions" and m.chosen_["name"] == "knn on fractions"
    assert list(m.columns_) == [0, 1, 2] and m.estimator_.n_features_in_ == 3
    assert m.predict(X).shape == (n,)
    # labels that do not match the width (the random-feature control): all columns only
    assert list(feature_subsets(names[:-1], X.shape[1], ("fractions",))) == ["all"]


class _Spy(RegressorMixin, BaseEstimator):
    """Remembers the rows it was fitted on (column 0 holds the row number)."""
    seen: set = set()

    def __init__(self, delay=0.0):
        self.delay = delay

    def fit(self, X, y):
        time.sleep(self.delay)
        _Spy.seen |= set(X[:, 0].astype(int))
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


def test_never_sees_the_test_rows_in_a_run_fold():
    rng = np.random.default_rng(2)
    X = np.column_stack([np.arange(100), rng.normal(size=100)])
    y = rng.normal(size=100)
    train, test = np.arange(70), np.arange(70, 100)
    _Spy.seen = set()
    AutoRegressor(models=[("spy", _Spy()), ("ridge", Ridge())]).fit(X[train], y[train]).predict(X[test])
    assert _Spy.seen and _Spy.seen <= set(train)


def test_respects_the_time_budget_but_finishes_the_cheap_ones():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(60, 3)), rng.normal(size=60)
    m = AutoRegressor(models=[("slow", _Spy(delay=0.05)), ("slower", _Spy(delay=0.05)), ("ridge", Ridge())],
                      budget_s=0.01, always=("ridge",)).fit(X, y)
    ran = [c["candidate"] for c in m.chosen_["candidates"]]
    assert ran == ["slow", "ridge"] and m.chosen_["skipped"] == ["slower"]


def test_classifier_keeps_a_threshold_for_balanced_accuracy():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] > 1.0).astype(int)  # imbalanced: ~16% positives
    m = make_model("auto", "classification", feature_names=[f"x{i}" for i in range(4)])
    m.set_params(models=[(n, e) for n, e in m.models if n in ("logistic", "knn")])
    m.fit(X, y)
    assert m.chosen_["metric"] == "balanced_accuracy" and m.chosen_["model"] in ("logistic", "knn")
    t = m.threshold_
    assert 0 < t["threshold"] < 1 and t["inner_balanced_accuracy"] >= t["inner_balanced_accuracy_at_0.5"]
    assert m.predict_proba(X).shape == (300, 2)


def _frame(n=90, seed=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return pd.DataFrame({"id": [f"m{i}" for i in range(n)], "formula": ["Fe2O3"] * n,
                         "y": X @ np.array([1.0, 2.0, 0.0]),
                         "a": X[:, 0], "b": X[:, 1], "c": X[:, 2]})


def test_a_run_records_the_choice_per_fold(tmp_path):
    df = _frame()
    feats = df.set_index("id")[["a", "b", "c"]]
    cfg = RunConfig(data=str(_csv(tmp_path, df)), target="y", input_column="formula", features=feats,
                    models={"dummy": "dummy", "auto": _tiny_auto},
                    primary_model="auto", n_folds=3, split="kfold", controls=[], learning_curve=False,
                    out_dir=str(tmp_path / "runs"))
    res = Experiment(cfg).run(progress=False)
    folds = sorted((res.path / "folds" / "auto").glob("fold_*.json"))
    assert len(folds) == 3
    for f in folds:
        sel = json.loads(f.read_text())["search"]["selection"]
        assert sel["name"] == "ridge" and {c["candidate"] for c in sel["candidates"]} == {"mean", "ridge"}
    assert "selection" not in (json.loads(next((res.path / "folds" / "dummy").glob("fold_*.json")).read_text())
                               .get("search") or {})
    html, md = _selection_table(SimpleNamespace(run=RunData(res.path)))  # the report's model-choice table
    assert "What the primary model chose in each fold" in html and len(md) == 3
    assert md[0].startswith("Fold 0: ridge chosen (inner mae")


def _tiny_auto(task_type, seed):
    return AutoRegressor(models=[("mean", DummyRegressor()), ("ridge", Ridge())], random_state=seed)


def _csv(tmp_path, df):
    p = tmp_path / "data.csv"
    df.drop(columns=["a", "b", "c"]).to_csv(p, index=False)
    return p


def test_a_task_without_a_recipe_defaults_to_auto():
    c = recipe_config("dielectric")
    assert c.primary == "auto" and c.models == ["dummy", "rf", "auto"] and c.features == "auto"
    assert recipe_config("steels").primary == "et"  # recipes stay declared up front
    with pytest.raises(ValueError, match="unknown feature subset"):
        AutoRegressor(models=[("ridge", Ridge())], subsets=("nope",), feature_names=["a"]).fit(
            np.ones((6, 1)), np.arange(6.0))
