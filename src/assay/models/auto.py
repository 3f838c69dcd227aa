"""A default that chooses: (feature subset, model) candidates scored by inner CV, the winner refitted.

A fixed default model is often beaten by its own random-forest baseline on a task it was not
designed for. ``AutoRegressor`` / ``AutoClassifier`` choose instead, inside ``fit``, i.e. inside
each outer training fold of a run: every candidate is scored by K-fold cross-validation on the
rows passed to ``fit`` only (the outer test rows never reach it), the best one is refitted on all
of them, and ``chosen_`` records the winner and every candidate's inner score, so a run can say
which it chose in each fold.

Candidates are (feature subset, model) pairs, tried in order. Feature subsets are picked by
column label (``feature_names``): element fractions (labels are bare element symbols), the
structure block, or all columns; a subset that is empty or equal to another is left out.
``budget_s`` bounds the selection: once it is spent no further candidate starts, except models
named in ``always`` (the cheap ones). A time budget makes the choice machine-dependent where it
bites; ``chosen_["skipped"]`` says when it did.

Classification is scored as the run scores it: balanced accuracy of hard labels at a decision
threshold chosen on the candidate's inner out-of-fold probabilities (Matbench's 'rocauc' is
scored this way in assay); the winner's threshold is kept in ``threshold_`` so that the run uses
it instead of fitting the whole selection again on inner folds.
"""
from __future__ import annotations

import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.metrics import (balanced_accuracy_score, mean_absolute_error, mean_squared_error,
                             r2_score, roc_auc_score)
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..features.composition import ElementFraction
from ..features.structure import StructureFeatures

__all__ = ["AutoModel", "AutoRegressor", "AutoClassifier", "SUBSETS", "feature_subsets"]

#: metric -> (function of (y, prediction or probability), higher is better, needs probabilities)
_METRICS = {
    "mae": (mean_absolute_error, False, False),
    "rmse": (lambda y, p: float(np.sqrt(mean_squared_error(y, p))), False, False),
    "r2": (r2_score, True, False),
    "balanced_accuracy": (balanced_accuracy_score, True, False),
    "roc_auc": (roc_auc_score, True, True),
}


def _fraction_labels() -> frozenset:
    return frozenset(ElementFraction().feature_labels())


def _structure_labels() -> frozenset:
    return frozenset(StructureFeatures(StructureFeatures.ALL).feature_labels())


def _is_structure(label: str) -> bool:
    return label in _structure_labels() or label.startswith(("site ", "chgnet "))


#: subset name -> (label -> keep?), given the set of element-fraction labels
SUBSETS = {
    "all": lambda lab, fr: True,
    "no-fractions": lambda lab, fr: lab not in fr,
    "fractions": lambda lab, fr: lab in fr,
    "composition": lambda lab, fr: not _is_structure(lab),
}


def feature_subsets(names, n_features: int, subsets=("all",)) -> dict[str, np.ndarray]:
    """subset name -> column indices; subsets that are empty or repeat an earlier one are left out.

    Without labels (or labels that do not match the width, as in the random-feature control),
    only all columns."""
    everything = np.arange(n_features)
    if names is None or len(names) != n_features:
        return {"all": everything}
    fr = _fraction_labels()
    out: dict[str, np.ndarray] = {}
    for s in subsets:
        if s not in SUBSETS:
            raise ValueError(f"unknown feature subset {s!r}; known: {', '.join(SUBSETS)}")
        cols = np.array([i for i, lab in enumerate(names) if SUBSETS[s](str(lab), fr)], dtype=int)
        if len(cols) and not any(np.array_equal(cols, c) for c in out.values()):
            out[s] = cols
    return out or {"all": everything}


class AutoModel(BaseEstimator):
    """Shared machinery of ``AutoRegressor`` and ``AutoClassifier`` (see the module docstring).

    ``models``: ``[(name, estimator), ...]`` tried in this order (put the cheap ones first);
    ``subsets``: names in ``SUBSETS``; ``metric``: "auto" (MAE; balanced accuracy at a tuned
    threshold) or a name in ``_METRICS``.
    """

    def __init__(self, models=(), subsets=("all",), feature_names=None, cv=3, budget_s=600.0,
                 always=("ridge", "logistic", "knn"), metric="auto", random_state=0):
        self.models = models
        self.subsets = subsets
        self.feature_names = feature_names
        self.cv = cv
        self.budget_s = budget_s
        self.always = always
        self.metric = metric
        self.random_state = random_state

    # -- selection -------------------------------------------------------------------------------
    def _metric(self) -> str:
        m = self._default_metric if self.metric == "auto" else self.metric
        if m not in _METRICS:
            raise ValueError(f"metric must be 'auto' or one of {list(_METRICS)}, not {self.metric!r}")
        return m

    def _splits(self, y):
        n = min(int(self.cv), len(y))
        if n < 2:
            return []
        if self._is_clf:
            counts = np.unique(y, return_counts=True)[1]
            if counts.min() >= n:
                return list(StratifiedKFold(n, shuffle=True, random_state=self.random_state).split(y, y))
        return list(KFold(n, shuffle=True, random_state=self.random_state).split(y))

    def _candidates(self, n_features):
        if not self.models:
            raise ValueError("AutoModel needs at least one (name, estimator) in models")
        subsets = feature_subsets(self.feature_names, n_features, self.subsets)
        return [(f"{m}" if s == "all" else f"{m} on {s}", m, s, est, subsets[s])
                for m, est in self.models for s in subsets]

    def _score(self, est, cols, X, y, splits, metric):
        """Inner CV score of one candidate: (score, per-fold scores, threshold record or None)."""
        fn, _, needs_proba = _METRICS[metric]
        binary = self._is_clf and len(np.unique(y)) == 2
        oof = np.full(len(y), np.nan)
        per_fold = []
        for tr, va in splits:
            e = clone(est).fit(X[tr][:, cols], y[tr])
            if self._is_clf and binary and hasattr(e, "predict_proba"):
                p = e.predict_proba(X[va][:, cols])
                classes = list(e.classes_)
                oof[va] = p[:, classes.index(self.classes_[1])] if self.classes_[1] in classes else 0.0
            pred = oof[va] if needs_proba else e.predict(X[va][:, cols])
            per_fold.append(float(fn(y[va], pred)))
        thr = None
        if self._is_clf and binary and metric == "balanced_accuracy" and np.isfinite(oof).all():
            thr = _best_threshold(y == self.classes_[1], oof)
            return thr["inner_balanced_accuracy"], per_fold, thr
        return float(np.mean(per_fold)), per_fold, thr

    def fit(self, X, y):
        X, y = self._validate_fit(X, y)
        metric = self._metric()
        higher = _METRICS[metric][1]
        cands = self._candidates(X.shape[1])
        splits = self._splits(y)
        t_start = time.perf_counter()
        table, skipped, best = [], [], None
        for i, (name, model, subset, est, cols) in enumerate(cands):
            spent = time.perf_counter() - t_start
            if i and spent > self.budget_s and model not in self.always:
                skipped.append(name)
                continue
            t0 = time.perf_counter()
            row = {"candidate": name, "model": model, "subset": subset, "n_features": int(len(cols))}
            try:
                if not splits:
                    raise ValueError(f"{len(y)} rows are too few for inner cross-validation")
                score, per_fold, thr = self._score(est, cols, X, y, splits, metric)
                row.update(score=score, fold_scores=per_fold, state="complete")
            except Exception as exc:  # noqa: BLE001 - a failing candidate is recorded, not fatal
                score, thr = float("nan"), None
                row.update(score=score, state=f"failed: {type(exc).__name__}: {exc}"[:200])
            row["seconds"] = round(time.perf_counter() - t0, 3)
            table.append(row)
            if np.isfinite(score) and (best is None or (score > best[0] if higher else score < best[0])):
                best = (score, i, thr)
        if best is None:  # nothing could be scored (tiny data): the first candidate, said so
            best = (float("nan"), 0, None)
        _, i, thr = best
        name, model, subset, est, cols = cands[i]
        self.columns_ = cols
        self.estimator_ = clone(est).fit(X[:, cols], y)
        self.threshold_ = thr
        self.chosen_ = {"name": name, "model": model, "subset": subset, "metric": metric,
                        "higher_is_better": higher, "score": best[0], "inner_folds": len(splits),
                        "n_features": int(len(cols)), "candidates": table, "skipped": skipped,
                        "seconds": round(time.perf_counter() - t_start, 3)}
        return self

    # -- prediction --------------------------------------------------------------------------------
    def _X(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite=self._finite(), reset=False)
        return X[:, self.columns_]

    def predict(self, X):
        X = self._X(X)
        return self.estimator_.predict(X)

    def _finite(self):
        # NaN passes to the candidates (the zoo's impute or, as LightGBM, handle it; a candidate
        # that cannot is recorded as failed); infinities are refused here.
        return "allow-nan"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def _best_threshold(y_pos, oof) -> dict:
    """The threshold on the positive-class probability with the best balanced accuracy (0.5 and
    the 1..99% quantiles of the out-of-fold probabilities, as the run's own threshold choice)."""
    y_pos = np.asarray(y_pos, dtype=bool)
    cands = np.unique(np.concatenate([[0.5], np.quantile(oof, np.linspace(0.01, 0.99, 99))]))
    hit = oof[None, :] >= cands[:, None]  # (thresholds, rows): predicted positive
    scores = (hit[:, y_pos].mean(axis=1) + (~hit[:, ~y_pos]).mean(axis=1)) / 2  # balanced accuracy
    k = int(np.argmax(scores))
    at_half = int(np.searchsorted(cands, 0.5))
    return {"threshold": float(cands[k]), "inner_balanced_accuracy": float(scores[k]),
            "inner_balanced_accuracy_at_0.5": float(scores[at_half])}


class AutoRegressor(RegressorMixin, AutoModel):
    _is_clf = False
    _default_metric = "mae"

    def _validate_fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite=self._finite(), y_numeric=True)
        return X, np.asarray(y, dtype=float)


class AutoClassifier(ClassifierMixin, AutoModel):
    _is_clf = True
    _default_metric = "balanced_accuracy"

    def _validate_fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite=self._finite())
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        return X, y

    def _has_proba(self):
        est = getattr(self, "estimator_", None)
        return hasattr(est, "predict_proba") if est is not None else \
            all(hasattr(e, "predict_proba") for _, e in self.models)

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Probabilities in ``classes_`` order (a class the winner never saw gets 0)."""
        X = self._X(X)
        p = self.estimator_.predict_proba(X)
        inner = list(self.estimator_.classes_)
        if inner == list(self.classes_):
            return p
        out = np.zeros((len(p), len(self.classes_)))
        for j, c in enumerate(inner):
            out[:, list(self.classes_).index(c)] = p[:, j]
        return out
