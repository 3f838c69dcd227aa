"""assay's splits as scikit-learn cross-validators, so the same folds work in ``cross_validate``,
``GridSearchCV`` and ``check_cv`` as in an assay run.

Chemistry splitters group rows by what a model could memorise: they take ``groups`` = each row's
formula, pymatgen Composition or Structure and derive the reduced formula or the chemical system
themselves (a row that cannot be parsed becomes a group of its own), so that
``cross_validate(est, X, y, groups=formulas, cv=LeaveChemicalSystemOut(5))`` just works.
"""
from __future__ import annotations

import math
from numbers import Number

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.impute import SimpleImputer
from sklearn.model_selection import (BaseCrossValidator, GroupKFold, LeaveOneGroupOut,
                                     ShuffleSplit, StratifiedKFold)
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_consistent_length
from sklearn.utils.multiclass import type_of_target

from ..data.chemistry import chemical_system, reduced_formula

try:  # scikit-learn >= 1.3: makes metadata routing send ``groups`` to split()
    from sklearn.model_selection._split import GroupsConsumerMixin
except ImportError:  # pragma: no cover
    class GroupsConsumerMixin:  # noqa: D101
        pass

MONTE_CARLO_TEST_SIZE = 0.2
_GROUP_KEY = {"reduced_formula": reduced_formula, "chemical_system": chemical_system}


def group_keys(items, kind: str) -> np.ndarray:
    """Group label of each row ('reduced_formula' or 'chemical_system') from its formula,
    Composition or Structure; an unparseable row gets a group of its own, ``__row_<i>``."""
    fn = _GROUP_KEY[kind]
    out = []
    for i, item in enumerate(items):
        try:
            out.append(fn(item))
        except Exception:  # noqa: BLE001 - any parse failure isolates the row
            out.append(f"__row_{i}")
    return np.asarray(out, dtype=object)


def _group_kfold(keys: np.ndarray, n_splits: int, shuffle: bool, random_state):
    """scikit-learn's GroupKFold on ``keys``, refusing fewer groups than folds."""
    n_groups = len(set(keys.tolist()))
    if n_groups < n_splits:
        raise ValueError(f"only {n_groups} groups for {n_splits} folds")
    try:
        gkf = GroupKFold(n_splits, shuffle=shuffle, random_state=random_state)
    except TypeError:  # scikit-learn < 1.6: no shuffling; the greedy packing is deterministic
        gkf = GroupKFold(n_splits)
    return gkf.split(np.zeros(len(keys)), groups=keys)


def _need_groups(cv, groups, X, y):
    if groups is None:
        raise ValueError(f"{type(cv).__name__} groups rows by chemistry: pass groups= each "
                         f"row's formula, Composition or Structure")
    check_consistent_length(*(a for a in (X, y, groups) if a is not None))


class _ChemistryGroupSplit(GroupsConsumerMixin, BaseCrossValidator):
    """Splitters whose groups are derived from the rows' compositions (``groups`` = formulas,
    Compositions or Structures)."""

    groups_kind = "compositions"

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state=None):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state


class ReducedFormulaGroupKFold(_ChemistryGroupSplit):
    """Group k-fold on the reduced formula: every polymorph or duplicate of a compound lands in
    one fold, so no test compound was seen in training."""

    def split(self, X, y=None, groups=None):
        _need_groups(self, groups, X, y)
        yield from _group_kfold(group_keys(groups, "reduced_formula"), self.n_splits,
                                self.shuffle, self.random_state)

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits


class LeaveChemicalSystemOut(_ChemistryGroupSplit):
    """Leave-one-chemical-system-out: the chemical system (sorted element set, e.g. Fe-O) is
    the group, so no test row's system occurs among its training rows.

    With no more systems than ``n_splits`` every system is its own fold (LeaveOneGroupOut);
    with more, systems are dealt into ``n_splits`` folds by scikit-learn's GroupKFold.
    """

    def split(self, X, y=None, groups=None):
        _need_groups(self, groups, X, y)
        keys = group_keys(groups, "chemical_system")
        if len(set(keys.tolist())) <= self.n_splits:
            yield from LeaveOneGroupOut().split(np.zeros(len(keys)), groups=keys)
        else:
            yield from _group_kfold(keys, self.n_splits, self.shuffle, self.random_state)

    def get_n_splits(self, X=None, y=None, groups=None):
        """``n_splits``, or the number of chemical systems when there are fewer (needs groups)."""
        _need_groups(self, groups, None, None)
        return min(self.n_splits, len(set(group_keys(groups, "chemical_system").tolist())))


def _deciles(y) -> np.ndarray:
    edges = np.unique(np.quantile(y, np.linspace(0, 1, 11)[1:-1]))
    return np.digitize(y, edges)


class TargetStratifiedKFold(StratifiedKFold):
    """Stratified k-fold that also works for regression: strata are the classes, or the
    target's deciles for a continuous target, so every fold sees the whole target range.

    ``task_type``: 'classification', 'regression', or 'auto' (continuous targets get deciles).
    """

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state=None,
                 task_type: str = "auto"):
        super().__init__(n_splits, shuffle=shuffle, random_state=random_state)
        self.task_type = task_type

    def _strata(self, y):
        if y is None:
            raise ValueError("TargetStratifiedKFold stratifies on the target: pass y")
        y = np.asarray(y)
        kind = self.task_type
        if kind == "auto":
            kind = "regression" if type_of_target(y).startswith("continuous") else "classification"
        elif kind not in ("regression", "classification"):
            raise ValueError(f"task_type must be 'auto', 'regression' or 'classification', "
                             f"not {self.task_type!r}")
        return y if kind == "classification" else _deciles(y)

    def split(self, X, y, groups=None):
        strata = self._strata(y)
        return super().split(np.zeros(len(strata)) if X is None else X, strata, groups)


class MonteCarloSplit(ShuffleSplit):
    """Repeated random train/test splits (default 80/20); test sets of different repeats may
    overlap, so the folds are not a partition of the rows."""

    def __init__(self, n_splits: int = 5, *, test_size=MONTE_CARLO_TEST_SIZE, train_size=None,
                 random_state=None):
        super().__init__(n_splits=n_splits, test_size=test_size, train_size=train_size,
                         random_state=random_state)


def cluster_folds(X, n_folds: int, seed):
    """k-means clusters of the standardised, median-imputed features, largest first."""
    X = np.asarray(X, dtype=float)
    Z = StandardScaler().fit_transform(SimpleImputer(strategy="median",
                                                     keep_empty_features=True).fit_transform(X))
    Z = np.nan_to_num(Z)
    labels = KMeans(n_clusters=n_folds, n_init=10, random_state=seed).fit_predict(Z)
    # order folds by cluster size (largest first) so fold numbers are stable and readable
    sizes = np.bincount(labels, minlength=n_folds)
    order = [c for c, _ in sorted(enumerate(sizes), key=lambda t: -t[1])]
    idx = np.arange(len(labels))
    return [(idx[labels != c], idx[labels == c]) for c in order if (labels == c).any()]


class FeatureClusterKFold(BaseCrossValidator):
    """k-means (k = ``n_splits``) on the standardised, median-imputed features; each cluster
    is one test fold, largest first (Meredig et al. 2018, LOCO-CV): tests extrapolation to
    regions of feature space the model has not seen. Needs ``X``."""

    def __init__(self, n_splits: int = 5, *, random_state=None):
        self.n_splits = n_splits
        self.random_state = random_state

    def split(self, X, y=None, groups=None):
        if X is None:
            raise ValueError("FeatureClusterKFold clusters the features: pass X")
        yield from cluster_folds(X, self.n_splits, self.random_state)

    def get_n_splits(self, X=None, y=None, groups=None):
        """``n_splits`` (fewer only if k-means leaves a cluster empty, e.g. duplicate rows)."""
        return self.n_splits


def _fold_label(value):
    """A fold label normalised: None for 'never a test row' (missing, or -1 as in
    scikit-learn's PredefinedSplit); integer-valued numbers or text become ints."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("", "nan", "na", "n/a", "null", "none"):
            return None
        try:
            num = float(text)
        except ValueError:
            return text
        value = num
    if isinstance(value, Number) and not isinstance(value, bool):
        if float(value).is_integer():
            value = int(value)
        return None if value == -1 else value
    return value


class FoldColumn(BaseCrossValidator):
    """Folds given by the user: ``labels`` holds each row's test fold (ints or names); rows
    labelled missing or -1 are always in training (as in scikit-learn's PredefinedSplit).
    Folds come in sorted label order. ``column`` names the column of the user's data the
    labels came from; assay's ``resolve_splitter`` fills ``labels`` from it."""

    def __init__(self, column: str | None = None, labels=None):
        self.column = column
        self.labels = labels

    def _codes(self):
        if self.labels is None:
            raise ValueError(f"FoldColumn({self.column!r}) has no labels: pass labels= each "
                             f"row's test fold, or resolve it against the data with "
                             f"assay.evaluation.splitters.resolve_splitter")
        norm = [_fold_label(v) for v in self.labels]
        present = {v for v in norm if v is not None}
        try:
            names = sorted(present)
        except TypeError:  # numbers and names mixed
            names = sorted(present, key=lambda v: (isinstance(v, str), str(v)))
        index = {name: k for k, name in enumerate(names)}
        codes = np.array([-1 if v is None else index[v] for v in norm], dtype=int)
        return codes, names

    def split(self, X=None, y=None, groups=None):
        codes, names = self._codes()
        if X is not None:
            check_consistent_length(X, codes)
        for k in range(len(names)):
            yield np.flatnonzero(codes != k), np.flatnonzero(codes == k)

    def get_n_splits(self, X=None, y=None, groups=None):
        return len(self._codes()[1])

    def fold_names(self) -> list:
        """The label of each fold, in fold order."""
        return self._codes()[1]
