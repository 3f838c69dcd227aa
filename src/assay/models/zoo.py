"""The model zoo: every model assay can fit, by name, behind scikit-learn's interface.

Each entry builds a fresh, un-fitted estimator for a task type and seed, so that folds,
controls and refits never share state.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sklearn.base import BaseEstimator
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str  # "baseline" | "linear" | "kernel" | "neighbours" | "tree" | "boosting" | "neural" | "ensemble"
    description: str
    build: Callable[[str, int, int], BaseEstimator]  # (task_type, seed, n_jobs) -> estimator
    search_space: dict = field(default_factory=dict)  # name -> ("int"|"float"|"log"|"cat", low, high | choices)
    is_baseline: bool = False


def _imputer():
    # Median imputation keeps rows a featuriser left partly NaN; LightGBM handles NaN natively.
    return SimpleImputer(strategy="median", keep_empty_features=True)


def _dummy(task_type, seed, n_jobs):
    from sklearn.dummy import DummyClassifier, DummyRegressor

    if task_type == "classification":
        return DummyClassifier(strategy="most_frequent")
    return DummyRegressor(strategy="mean")


def _rf(task_type, seed, n_jobs):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = RandomForestClassifier if task_type == "classification" else RandomForestRegressor
    return Pipeline([("impute", _imputer()),
                     ("model", cls(n_estimators=300, random_state=seed, n_jobs=n_jobs))])


def _lgbm(task_type, seed, n_jobs):
    import lightgbm as lgb

    cls = lgb.LGBMClassifier if task_type == "classification" else lgb.LGBMRegressor
    # One thread: LightGBM's OpenMP threads spin and slow down 50x when another process shares
    # the cores (measured: 2.3 s with 1 thread, 114 s with 2 on a busy 2-core machine); assay
    # parallelises over folds and trials in processes instead.
    return cls(n_estimators=800, learning_rate=0.04, num_leaves=31, subsample=0.8, subsample_freq=1,
               colsample_bytree=0.6, min_child_samples=10, reg_lambda=1.0, random_state=seed,
               n_jobs=1, verbose=-1)


def _knn1(task_type, seed, n_jobs):
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.preprocessing import StandardScaler

    cls = KNeighborsClassifier if task_type == "classification" else KNeighborsRegressor
    return Pipeline([("impute", _imputer()), ("scale", StandardScaler()),
                     ("model", cls(n_neighbors=1, n_jobs=n_jobs))])


ZOO: dict[str, ModelSpec] = {
    "dummy": ModelSpec("dummy", "baseline", "Mean (regression) or most frequent class", _dummy,
                       is_baseline=True),
    "knn1": ModelSpec("knn1", "baseline", "1-nearest neighbour on standardised features", _knn1,
                      is_baseline=True),
    "rf": ModelSpec("rf", "tree", "Random forest, 300 trees", _rf,
                    {"model__max_features": ("float", 0.1, 1.0),
                     "model__min_samples_leaf": ("int", 1, 10)}, is_baseline=True),
    "lgbm": ModelSpec("lgbm", "boosting", "LightGBM gradient-boosted trees", _lgbm,
                      {"n_estimators": ("int", 200, 2000), "learning_rate": ("log", 0.01, 0.2),
                       "num_leaves": ("int", 8, 128), "colsample_bytree": ("float", 0.2, 1.0),
                       "min_child_samples": ("int", 3, 50), "reg_lambda": ("log", 1e-3, 10.0)}),
}

#: Models a plain ``assay run`` fits: a baseline, the classic reference and a strong learner.
DEFAULT_MODELS = ("dummy", "rf", "lgbm")


def get_model_spec(name: str) -> ModelSpec:
    try:
        return ZOO[name]
    except KeyError:
        raise KeyError(f"Unknown model {name!r}; known models: {', '.join(ZOO)}") from None


def make_model(name: str, task_type: str, seed: int = 0, n_jobs: int = 1, **params) -> BaseEstimator:
    """A fresh estimator; ``params`` are set with ``set_params`` (pipeline step names allowed)."""
    est = get_model_spec(name).build(task_type, seed, n_jobs)
    if params:
        est.set_params(**params)
    return est
