"""The model zoo: every model assay can fit, by name, behind scikit-learn's interface.

Each entry builds a fresh, un-fitted estimator for a task type and seed, so that folds,
controls and refits never share state. Each also carries a default search space used by the
nested hyperparameter search (``assay.evaluation.search``):

    name -> ("int", low, high) | ("float", low, high) | ("log", low, high) | ("cat", [choices])

Names are ``set_params`` keys of the built estimator (pipeline step names included).
Stacking of any zoo models is spelled ``stack:rf+lgbm+knn``; plain ``stack`` is a default mix.

Threads: ``n_jobs`` is processes and no model's numbers depend on it. Every model runs
single-threaded (``n_jobs=1`` for LightGBM/XGBoost whatever is asked): LightGBM's OpenMP threads
collapse under CPU contention (measured 2 s vs 114 s on a busy 2-core machine). Only the forests
pass ``n_jobs`` on, as threads over trees seeded one by one (the same numbers for any value); the
torch MLP has its own ``threads`` setting (default 1). assay parallelises over folds and trials in
processes instead.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Callable

from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor, RandomForestClassifier,
                              RandomForestRegressor, StackingClassifier, StackingRegressor,
                              VotingClassifier, VotingRegressor)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge, RidgeCV
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from .auto import AutoClassifier, AutoRegressor
from .delta import DeltaRegressor, _default_learner
from .estimators import CalibratedSVC, ClipToTrainingRange
from .gated import ZeroGatedRegressor
from .graph import GraphNetClassifier, GraphNetRegressor
from .mlp import TorchMLPClassifier, TorchMLPRegressor
from .reduced import LAYER_PREFIXES, BlockPCA, ReducedModel
from .modnet import BlendClassifier, BlendRegressor, MODNetClassifier, MODNetRegressor

__all__ = ["ModelSpec", "ZOO", "DEFAULT_MODELS", "DEFAULT_STACK", "available_models", "get_model_spec",
           "make_model", "CalibratedSVC", "ClipToTrainingRange"]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str  # "baseline" | "linear" | "kernel" | "neighbours" | "tree" | "boosting" | "neural" | "ensemble"
    description: str
    build: Callable[[str, int, int], BaseEstimator]  # (task_type, seed, n_jobs) -> estimator
    search_space: dict = field(default_factory=dict)  # name -> ("int"|"float"|"log"|"cat", low, high | choices)
    is_baseline: bool = False
    requires: str | None = None  # an optional package the model needs


def _imputer():
    # Median imputation keeps rows a featuriser left partly NaN; LightGBM handles NaN natively.
    return SimpleImputer(strategy="median", keep_empty_features=True)


def _scaled(model):
    return Pipeline([("impute", _imputer()), ("scale", StandardScaler()),
                     ("clip", ClipToTrainingRange()), ("model", model)])


def _imputed(model):
    return Pipeline([("impute", _imputer()), ("model", model)])


def _is_clf(task_type: str) -> bool:
    return task_type == "classification"


# --- baselines ---------------------------------------------------------------------------------
def _dummy(task_type, seed, n_jobs):
    if _is_clf(task_type):
        return DummyClassifier(strategy="most_frequent")
    return DummyRegressor(strategy="mean")


def _knn1(task_type, seed, n_jobs):
    cls = KNeighborsClassifier if _is_clf(task_type) else KNeighborsRegressor
    return _scaled(cls(n_neighbors=1, n_jobs=1))


# --- linear ------------------------------------------------------------------------------------
def _linear(task_type, seed, n_jobs):
    if _is_clf(task_type):  # "linear" for a classification task is unpenalised-ish logistic regression
        return _scaled(LogisticRegression(C=100.0, max_iter=2000))
    return _scaled(LinearRegression())


def _ridge(task_type, seed, n_jobs):
    if _is_clf(task_type):
        return _scaled(LogisticRegression(C=1.0, max_iter=2000))
    return _scaled(Ridge(alpha=1.0))


def _lasso(task_type, seed, n_jobs):
    if _is_clf(task_type):
        return _scaled(LogisticRegression(C=1.0, l1_ratio=1.0, solver="saga", max_iter=2000,
                                          random_state=seed))
    return _scaled(Lasso(alpha=0.01, max_iter=5000, random_state=seed))


def _logistic(task_type, seed, n_jobs):
    if not _is_clf(task_type):
        raise ValueError("'logistic' is a classifier; use 'ridge' or 'linear' for regression")
    return _scaled(LogisticRegression(C=1.0, max_iter=2000))


# --- neighbours, kernels -------------------------------------------------------------------------
def _knn(task_type, seed, n_jobs):
    cls = KNeighborsClassifier if _is_clf(task_type) else KNeighborsRegressor
    return _scaled(cls(n_neighbors=5, weights="distance", n_jobs=1))


def _svm(task_type, seed, n_jobs):
    if _is_clf(task_type):
        return _scaled(CalibratedSVC(C=10.0, gamma="scale", random_state=seed))
    return _scaled(SVR(C=10.0, epsilon=0.1, gamma="scale"))


# --- trees --------------------------------------------------------------------------------------
def _rf(task_type, seed, n_jobs):
    cls = RandomForestClassifier if _is_clf(task_type) else RandomForestRegressor
    return _imputed(cls(n_estimators=300, random_state=seed, n_jobs=n_jobs))


def _et(task_type, seed, n_jobs):
    cls = ExtraTreesClassifier if _is_clf(task_type) else ExtraTreesRegressor
    return _imputed(cls(n_estimators=300, random_state=seed, n_jobs=n_jobs))


def _lgbm(task_type, seed, n_jobs):
    import lightgbm as lgb

    cls = lgb.LGBMClassifier if _is_clf(task_type) else lgb.LGBMRegressor
    # One thread: LightGBM's OpenMP threads spin and slow down 50x when another process shares
    # the cores (measured: 2.3 s with 1 thread, 114 s with 2 on a busy 2-core machine); assay
    # parallelises over folds and trials in processes instead.
    return cls(n_estimators=800, learning_rate=0.04, num_leaves=31, subsample=0.8, subsample_freq=1,
               colsample_bytree=0.6, min_child_samples=10, reg_lambda=1.0, random_state=seed,
               n_jobs=1, verbose=-1)


def _xgb(task_type, seed, n_jobs):
    import xgboost as xgb

    cls = xgb.XGBClassifier if _is_clf(task_type) else xgb.XGBRegressor
    return cls(n_estimators=600, learning_rate=0.05, max_depth=6, subsample=0.8,
               colsample_bytree=0.6, min_child_weight=1.0, reg_lambda=1.0, tree_method="hist",
               random_state=seed, n_jobs=1, verbosity=0)


def _mlp(task_type, seed, n_jobs):
    cls = TorchMLPClassifier if _is_clf(task_type) else TorchMLPRegressor
    return cls(random_state=seed)


def _gated(task_type, seed, n_jobs):
    if _is_clf(task_type):
        raise ValueError("'gated' is a regressor (a zero / non-zero classifier in front of a regressor)")
    # Each side averages extra trees and LightGBM (soft vote for the gate): design folds 0.291 vs 0.295 eV.
    clf = VotingClassifier([("et", _et("classification", seed, n_jobs)), ("lgbm", _lgbm("classification", seed, n_jobs))],
                           voting="soft")
    reg = VotingRegressor([("et", _et(task_type, seed, n_jobs)), ("lgbm", _lgbm(task_type, seed, n_jobs))])
    return ZeroGatedRegressor(classifier=clf, regressor=reg)


def _delta(task_type, seed, n_jobs):
    if _is_clf(task_type):
        raise ValueError("'delta' is a regressor (a linear energy model plus a learner on the residual)")
    return DeltaRegressor(model=_default_learner(seed))


# --- chosen inside each training fold -------------------------------------------------------------
#: Candidates of ``auto``, cheap first (``budget_s`` stops the expensive ones, never these first two).
AUTO_MODELS = ("ridge", "knn", "lgbm", "et")
AUTO_SUBSETS = ("all", "composition", "no-fractions", "fractions")


def _auto(task_type, seed, n_jobs):
    models = [("logistic" if m == "ridge" and _is_clf(task_type) else m, make_model(m, task_type, seed=seed))
              for m in AUTO_MODELS]
    cls = AutoClassifier if _is_clf(task_type) else AutoRegressor
    return cls(models=models, subsets=AUTO_SUBSETS, random_state=seed)


# --- potential-layer embeddings reduced inside the fold (features.potential_layers) -------------------
def _reduced_of(inner):
    def build(task_type, seed, n_jobs):
        return ReducedModel(BlockPCA(LAYER_PREFIXES, n_components=16), inner(task_type, seed, n_jobs))
    return build


def _lgbm_space(prefix):
    return {prefix + k: v for k, v in {"n_estimators": ("int", 200, 2000), "learning_rate": ("log", 0.01, 0.2),
                                       "num_leaves": ("int", 8, 128), "colsample_bytree": ("float", 0.2, 1.0),
                                       "min_child_samples": ("int", 3, 50)}.items()}


_REDUCED = {
    "lgbm-pca": ModelSpec("lgbm-pca", "boosting", "LightGBM after each potential-layer block (chgnet-layers, "
                          "sevennet-layers) is reduced to 16 principal components, fitted on the training rows; "
                          "other columns pass through", _reduced_of(_lgbm),
                          {"reducer__n_components": ("cat", [8, 16, 32]), **_lgbm_space("model__")}),
    "delta-pca": ModelSpec("delta-pca", "ensemble", "delta, after each potential-layer block is reduced to 16 "
                           "principal components (fitted on the training rows)", _reduced_of(_delta),
                           {"reducer__n_components": ("cat", [8, 16, 32])}),
}


# --- MODNet-class network and a tree + network blend (models/modnet.py) ----------------------------
def _modnet(task_type, seed, n_jobs):
    return (MODNetClassifier if _is_clf(task_type) else MODNetRegressor)(random_state=seed)


def _blend(task_type, seed, n_jobs):
    """Equal-weight average (soft vote) of LightGBM, extra trees and the MODNet-class network:
    weights fixed up front, so nothing is chosen on any rows."""
    members = [("lgbm", _lgbm(task_type, seed, n_jobs)), ("et", _et(task_type, seed, n_jobs)),
               ("modnet", _modnet(task_type, seed, n_jobs))]
    if _is_clf(task_type):
        return BlendClassifier(members, voting="soft")
    return BlendRegressor(members)


def _graph(task_type, seed, n_jobs):
    return (GraphNetClassifier if _is_clf(task_type) else GraphNetRegressor)(random_state=seed)


_MODNET_SPACE = {"n_features": ("int", 16, 128), "lr": ("log", 1e-4, 1e-2), "dropout": ("float", 0.0, 0.3)}
_NETS = {
    "modnet": ModelSpec("modnet", "neural",
                        "MODNet-class: NMI relevance-redundancy selection (48 features, fitted in the fold) "
                        "then a 256-128-64-32 network, 5 seeds, early stopping on inner 10% splits",
                        _modnet, _MODNET_SPACE, requires="torch"),
    "blend": ModelSpec("blend", "ensemble", "Equal-weight average of LightGBM, extra trees and modnet "
                       "(soft vote for classes)", _blend,
                       {f"modnet__{k}": v for k, v in _MODNET_SPACE.items()}, requires="torch"),
    "graph": ModelSpec("graph", "neural",
                       "CGCNN-like crystal-graph network on the 'graph' preset (learned element embeddings + Magpie "
                       "properties, 3 gated convolutions, mean pooling, MLP head; other columns join the head), "
                       "3 seeds early-stopped on inner 10% splits; an MLP when there are no graph columns",
                       _graph, {"hidden": ("cat", [32, 64, 96]), "lr": ("log", 5e-4, 1e-2),
                                "n_conv": ("int", 2, 4), "weight_decay": ("log", 1e-6, 1e-2)}, requires="torch"),
}


# --- stacking -----------------------------------------------------------------------------------
#: Members of plain ``stack``: diverse and cheap enough for the 30-minute ``--models all`` budget.
DEFAULT_STACK = ("ridge", "knn", "et", "lgbm")


def _stack_of(members: tuple[str, ...]):
    def build(task_type, seed, n_jobs):
        ests = [(m, make_model(m, task_type, seed=seed, n_jobs=1)) for m in members]
        if _is_clf(task_type):
            return StackingClassifier(ests, final_estimator=LogisticRegression(max_iter=2000),
                                      cv=StratifiedKFold(3, shuffle=True, random_state=seed),
                                      stack_method="predict_proba", n_jobs=1)
        return StackingRegressor(ests, final_estimator=RidgeCV(alphas=(0.01, 0.1, 1.0, 10.0)),
                                 cv=KFold(3, shuffle=True, random_state=seed), n_jobs=1)
    return build


def _stack_spec(name: str) -> ModelSpec:
    members = DEFAULT_STACK if name == "stack" else tuple(m for m in name.split(":", 1)[1].split("+") if m)
    if not members:
        raise KeyError(f"Empty stack {name!r}; write e.g. stack:rf+lgbm+knn")
    for m in members:
        if m.startswith("stack") or m == "dummy":
            raise KeyError(f"{name!r}: a stack member cannot be {m!r}")
        get_model_spec(m)
    return ModelSpec(name, "ensemble",
                     f"Stacking of {', '.join(members)} (3-fold out-of-fold predictions, linear final model)",
                     _stack_of(members), {})


ZOO: dict[str, ModelSpec] = {
    "dummy": ModelSpec("dummy", "baseline", "Mean (regression) or most frequent class", _dummy,
                       is_baseline=True),
    "knn1": ModelSpec("knn1", "baseline", "1-nearest neighbour on standardised features", _knn1,
                      is_baseline=True),
    "linear": ModelSpec("linear", "linear", "Ordinary least squares (logistic, C=100, for classes)",
                        _linear, {}),
    "ridge": ModelSpec("ridge", "linear", "Ridge regression (L2 logistic for classes)", _ridge,
                       {"model__alpha": ("log", 1e-3, 1e3)}),
    "lasso": ModelSpec("lasso", "linear", "Lasso regression (L1 logistic for classes)", _lasso,
                       {"model__alpha": ("log", 1e-4, 1.0)}),
    "logistic": ModelSpec("logistic", "linear", "Logistic regression (classification only)",
                          _logistic, {"model__C": ("log", 1e-3, 1e3)}),
    "knn": ModelSpec("knn", "neighbours", "k-nearest neighbours (k=5, distance-weighted), standardised",
                     _knn, {"model__n_neighbors": ("int", 1, 30),
                            "model__weights": ("cat", ["uniform", "distance"])}),
    "svm": ModelSpec("svm", "kernel", "Support vector machine, RBF kernel, standardised features",
                     _svm, {"model__C": ("log", 0.1, 1000.0), "model__gamma": ("log", 1e-4, 1e-1)}),
    "rf": ModelSpec("rf", "tree", "Random forest, 300 trees", _rf,
                    {"model__max_features": ("float", 0.1, 1.0),
                     "model__min_samples_leaf": ("int", 1, 10)}, is_baseline=True),
    "et": ModelSpec("et", "tree", "Extremely randomised trees, 300 trees", _et,
                    {"model__max_features": ("float", 0.1, 1.0),
                     "model__min_samples_leaf": ("int", 1, 10)}),
    "lgbm": ModelSpec("lgbm", "boosting", "LightGBM gradient-boosted trees", _lgbm,
                      {"n_estimators": ("int", 200, 2000), "learning_rate": ("log", 0.01, 0.2),
                       "num_leaves": ("int", 8, 128), "colsample_bytree": ("float", 0.2, 1.0),
                       "min_child_samples": ("int", 3, 50), "reg_lambda": ("log", 1e-3, 10.0)}),
    "xgb": ModelSpec("xgb", "boosting", "XGBoost gradient-boosted trees (hist)", _xgb,
                     {"n_estimators": ("int", 200, 1500), "learning_rate": ("log", 0.01, 0.2),
                      "max_depth": ("int", 3, 10), "colsample_bytree": ("float", 0.2, 1.0),
                      "min_child_weight": ("log", 0.1, 20.0), "reg_lambda": ("log", 1e-3, 10.0)},
                     requires="xgboost"),
    "mlp": ModelSpec("mlp", "neural", "PyTorch MLP, early stopping on an internal split, 3-seed ensemble",
                     _mlp, {"hidden": ("cat", ["256-128", "512-256-128", "128-64"]),
                            "lr": ("log", 1e-4, 1e-2), "weight_decay": ("log", 1e-6, 1e-2),
                            "dropout": ("float", 0.0, 0.4)}, requires="torch"),
    "gated": ModelSpec("gated", "ensemble",
                       "Classifier for 'target is exactly 0' in front of a regressor fitted on the non-zero rows "
                       "(band gaps: metals are 0 eV), each the average of extra trees and LightGBM; the "
                       "regressor alone when zeros are rare",
                       _gated, {"regressor__et__model__max_features": ("float", 0.1, 1.0),
                                "classifier__et__model__max_features": ("float", 0.1, 1.0),
                                "threshold": ("float", 0.3, 0.7)}),
    "delta": ModelSpec("delta", "ensemble",
                       "Delta learning: ridge on CHGNet energy + element counts, LightGBM (8,000 trees) "
                       "on the residual; for presets with a chgnet block", _delta,
                       {"model__learning_rate": ("log", 0.005, 0.05), "model__num_leaves": ("int", 31, 255),
                        "model__colsample_bytree": ("float", 0.1, 0.8)}),
    "auto": ModelSpec("auto", "ensemble",
                      f"Chosen inside each training fold: {', '.join(AUTO_MODELS)} on each feature subset "
                      f"({', '.join(AUTO_SUBSETS)}) scored by 3-fold inner CV, the best refitted", _auto, {}),
    "stack": ModelSpec("stack", "ensemble",
                         f"Stacking of {', '.join(DEFAULT_STACK)} (3-fold out-of-fold predictions, "
                         "linear final model); any mix: stack:rf+lgbm+knn", _stack_of(DEFAULT_STACK), {}),
    **_REDUCED,
    **_NETS,
}

#: Models a plain ``assay run`` fits: a baseline, the classic reference and a strong learner.
DEFAULT_MODELS = ("dummy", "rf", "lgbm")


def available_models(task_type: str | None = None) -> list[str]:
    """The zoo names ``--models all`` expands to (classification-only models only for classes,
    models whose optional package is missing left out)."""
    out = []
    for name, spec in ZOO.items():
        if name == "logistic" and task_type not in (None, "classification"):
            continue
        if name in _REDUCED:  # opt-in by name: without potential-layer columns they equal lgbm / delta
            continue
        if name in ("delta", "gated") and task_type == "classification":
            continue
        if spec.requires and importlib.util.find_spec(spec.requires) is None:
            continue
        out.append(name)
    return out


def get_model_spec(name: str) -> ModelSpec:
    if name.startswith("stack:"):
        return _stack_spec(name)
    try:
        return ZOO[name]
    except KeyError:
        raise KeyError(f"Unknown model {name!r}; known models: {', '.join(ZOO)} "
                       "(and stack:a+b+c)") from None


def make_model(name: str, task_type: str, seed: int = 0, n_jobs: int = 1, feature_names=None,
               **params) -> BaseEstimator:
    """A fresh estimator; ``params`` are set with ``set_params`` (pipeline step names allowed).

    ``feature_names`` reach the models that select columns by label (``delta``); others ignore them.
    """
    spec = get_model_spec(name)
    if spec.requires:
        if importlib.util.find_spec(spec.requires) is None:
            hint = {"torch": "pip install 'assay[nn]'  (torch==2.13.0, CPU)",
                    "xgboost": "pip install xgboost-cpu"}.get(spec.requires, f"pip install {spec.requires}")
            raise ImportError(f"model {name!r} needs {spec.requires}: {hint}")
    est = spec.build(task_type, seed, n_jobs)
    if feature_names is not None and "feature_names" in est.get_params(deep=False):
        est.set_params(feature_names=list(feature_names))
    if params:
        est.set_params(**params)
    return est
