"""How rows are split into training and test folds; every split is a list of (train_idx, test_idx).

A split is named (the registry below), any scikit-learn CV splitter (an object with ``split`` and
``get_n_splits``, the user's own included), or a fold column of the user's data
(``"column:<name>"`` / ``FoldColumn(name)``). ``resolve_splitter`` turns any of them into a
splitter; ``make_splits`` lists its folds. The named splits are scikit-learn cross-validators
(assay.evaluation.cross_validators, data.folds.MatbenchFolds), so the same folds can be used in
``cross_validate`` or ``GridSearchCV``.

Splits by name:

official    Matbench's own folds (KFold / StratifiedKFold, 5 folds, random_state=18012019).
kfold       shuffled k-fold.
stratified  stratified k-fold: on the class for classification, on target deciles for regression.
loo         leave-one-out (n folds: one fit per row; meant for small data).
montecarlo  repeated random 80/20 splits (``n_folds`` repeats); test sets may overlap between
            repeats, so it is not a partition.
group       group k-fold by reduced formula: every polymorph/duplicate of a compound lands in
            the same fold, so no test formula is seen in training.
cluster     k-means (k = n_folds) on the standardised, median-imputed features; each cluster is
            one test fold (Meredig et al. 2018, LOCO-CV). Needs ``X``.
loco        leave-one-chemical-system-out: the chemical system (sorted element set, e.g. Fe-O) is
            the group. With no more systems than ``n_folds`` every system is its own fold
            (LeaveOneGroupOut). With more, scikit-learn's GroupKFold (shuffled by ``seed``) deals
            the systems into ``n_folds`` folds: every system is still wholly in one test fold,
            so no test row's chemical system occurs in its training rows.
forward     expanding windows in time (evaluation.forward.ForwardSplit): train on the past, test
            on the next block; the order comes from the dataset's extra columns (order, year,
            date, time; none are kept today) or is given as ForwardSplit(order=...).

``split_overlap`` reports, per fold, the share of test rows whose chemical system, elements and
reduced formula occur among the training rows (assay.data.audit.chemistry_overlap).
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, LeaveOneOut

from ..data.audit import chemistry_overlap
from ..data.chemistry import formula_string
from ..data.dataset import Dataset
from ..data.folds import MatbenchFolds
from .cross_validators import (MONTE_CARLO_TEST_SIZE, FeatureClusterKFold, FoldColumn,
                               LeaveChemicalSystemOut, MonteCarloSplit, ReducedFormulaGroupKFold,
                               TargetStratifiedKFold, cluster_folds, group_keys)
from .forward import ForwardSplit, forward_from_dataset

try:  # splitters that warn when handed groups they ignore (scikit-learn >= 1.6)
    from sklearn.model_selection._split import _UnsupportedGroupCVMixin
except ImportError:  # pragma: no cover
    class _UnsupportedGroupCVMixin:  # noqa: D101
        pass

__all__ = ["SPLITS", "SPLIT_SPECS", "NOT_PARTITION", "SplitSpec", "make_splits",
           "resolve_splitter", "describe_split", "default_split", "needs_features",
           "is_partition", "groups_for", "cluster_folds", "split_overlap", "FoldColumn",
           "MatbenchFolds", "TargetStratifiedKFold", "ReducedFormulaGroupKFold",
           "LeaveChemicalSystemOut", "FeatureClusterKFold", "MonteCarloSplit", "ForwardSplit",
           "MONTE_CARLO_TEST_SIZE"]

COLUMN_PREFIX = "column:"


@dataclass(frozen=True)
class SplitSpec:
    """A named split: ``make(dataset, n_folds, seed)`` builds its splitter; ``needs`` lists what
    it uses besides the row count: 'task' (a Matbench task), 'y', 'groups:compositions' (each
    row's formula/structure, passed as ``groups``), 'X' (the feature matrix)."""

    name: str
    make: Callable
    description: str
    why: str
    needs: tuple = ()
    partition: bool = True


def _official(ds: Dataset, n_folds: int, seed: int):
    if ds.task is None:
        raise ValueError("split='official' needs a Matbench task; use 'kfold' or 'stratified' "
                         "for your own data")
    return MatbenchFolds(ds.task.task_type)


SPLIT_SPECS = {s.name: s for s in (
    SplitSpec("official", _official,
              "Matbench's official 5 folds (Matbench tasks only)",
              "scores comparable with the Matbench leaderboard", ("task", "y")),
    SplitSpec("kfold", lambda ds, k, seed: KFold(k, shuffle=True, random_state=seed),
              "shuffled k-fold",
              "the default for your own regression data: every row is tested once"),
    SplitSpec("stratified", lambda ds, k, seed: TargetStratifiedKFold(
                  k, shuffle=True, random_state=seed, task_type=ds.task_type),
              "stratified k-fold (class, or target deciles for regression)",
              "small or imbalanced data: every fold sees the class mix or target range", ("y",)),
    SplitSpec("loo", lambda ds, k, seed: LeaveOneOut(),
              "leave-one-out",
              "very small data (tens of rows): the most training data per fit, n fits"),
    SplitSpec("montecarlo", lambda ds, k, seed: MonteCarloSplit(
                  k, test_size=MONTE_CARLO_TEST_SIZE, random_state=seed),
              "repeated random 80/20 splits (n_folds repeats; not a partition)",
              "a spread of scores over many random splits", partition=False),
    SplitSpec("group", lambda ds, k, seed: ReducedFormulaGroupKFold(
                  k, shuffle=True, random_state=seed),
              "group k-fold by reduced formula",
              "data with polymorphs or duplicates: no test compound is seen in training",
              ("groups:compositions",)),
    SplitSpec("cluster", lambda ds, k, seed: FeatureClusterKFold(k, random_state=seed),
              "k-means clusters of the features as folds (LOCO-CV)",
              "extrapolation to unseen regions of feature space", ("X",)),
    SplitSpec("loco", lambda ds, k, seed: LeaveChemicalSystemOut(
                  k, shuffle=True, random_state=seed),
              "leave-one-chemical-system-out "
              "(systems packed into n_folds folds when there are more)",
              "discovery in new chemical systems: no test system is seen in training",
              ("groups:compositions",)),
    SplitSpec("forward", forward_from_dataset,
              "forward in time: train on the past, test on the next block (expanding windows)",
              "materials made later than the training data: no test row is older than its "
              "training rows", partition=False),
)}
#: name -> one-line description, for listings.
SPLITS = {name: s.description for name, s in SPLIT_SPECS.items()}
#: Splits whose test folds are not a partition of the rows.
NOT_PARTITION = {name for name, s in SPLIT_SPECS.items() if not s.partition}


def _unknown(name) -> KeyError:
    return KeyError(f"Unknown split {name!r}; known: {', '.join(SPLITS)}; or "
                    f"'{COLUMN_PREFIX}<name>' for a fold column, or a scikit-learn CV splitter")


def _column_values(dataset: Dataset, column: str, columns) -> np.ndarray:
    """The column's value for each row of ``dataset``: from ``columns`` (a DataFrame or mapping
    of the user's columns), else from ``dataset.extra`` where the Dataset keeps one. Aligned
    by row id when the values are indexed by the dataset's ids, else by position."""
    source = columns if columns is not None else getattr(dataset, "extra", None)
    if source is None:
        raise KeyError(f"split '{COLUMN_PREFIX}{column}' needs the column's values, and this "
                       f"dataset keeps no extra columns: pass columns= (the user's table) or "
                       f"FoldColumn(labels=...)")
    if column not in source:
        raise KeyError(f"no fold column {column!r}; columns: {', '.join(map(str, source))}")
    values = source[column]
    if isinstance(values, pd.Series) and dataset.ids.isin(values.index).all() \
            and values.index.is_unique:
        return values.reindex(dataset.ids).to_numpy()
    values = np.asarray(values, dtype=object)
    if len(values) != len(dataset):
        raise ValueError(f"fold column {column!r} has {len(values)} values for "
                         f"{len(dataset)} rows (index it by the row ids to align it)")
    return values


def resolve_splitter(spec, dataset: Dataset, *, n_folds: int = 5, seed: int = 0,
                     columns=None):
    """A scikit-learn CV splitter for ``spec``: a registry name, ``"column:<name>"`` or
    ``FoldColumn`` (labels read from ``columns``/the dataset), or any object with ``split``
    and ``get_n_splits``, returned as is."""
    if isinstance(spec, str):
        if spec.startswith(COLUMN_PREFIX):
            spec = FoldColumn(spec[len(COLUMN_PREFIX):])
        elif spec in SPLIT_SPECS:
            return SPLIT_SPECS[spec].make(dataset, n_folds, seed)
        else:
            raise _unknown(spec)
    if isinstance(spec, FoldColumn) and spec.labels is None:
        if spec.column is None:
            raise ValueError("FoldColumn needs a column name or labels")
        return FoldColumn(spec.column, labels=_column_values(dataset, spec.column, columns))
    if callable(getattr(spec, "split", None)) and callable(getattr(spec, "get_n_splits", None)):
        return spec
    raise TypeError(f"a split is a name ({', '.join(SPLITS)}), '{COLUMN_PREFIX}<name>', or an "
                    f"object with split() and get_n_splits(); got {type(spec).__name__}")


def make_splits(spec, dataset: Dataset, *, n_folds: int = 5, seed: int = 0, X=None,
                columns=None):
    """Outer folds: ``list(resolve_splitter(...).split(X, y, groups))``. 'official' needs a
    Matbench task (its rows in mbid order). Folds of a user's splitter are checked."""
    cv = resolve_splitter(spec, dataset, n_folds=n_folds, seed=seed, columns=columns)
    y = dataset.y()
    n = len(y)
    named = SPLIT_SPECS.get(spec) if isinstance(spec, str) else None
    if named is not None:
        if "X" in named.needs and X is None:
            raise ValueError(f"split={spec!r} splits on the features: pass X")
        Xs = X if "X" in named.needs else np.zeros(n)
        groups = dataset.inputs.to_numpy() if "groups:compositions" in named.needs else None
        return _lists(cv.split(Xs, y, groups))
    folds = _lists(cv.split(np.zeros((n, 1)) if X is None else X, y, _groups_for_user(cv, dataset)))
    _check_folds(folds, n, describe_split(spec))
    return folds


def _groups_for_user(cv, dataset: Dataset):
    """Groups for a splitter that is not a named one: assay's chemistry splitters get the raw
    inputs; others each row's formula text (hashable, so GroupKFold & co. work), unless they
    ignore groups anyway (scikit-learn warns when such splitters get them)."""
    if getattr(cv, "groups_kind", None) == "compositions":
        return dataset.inputs.to_numpy()
    if isinstance(cv, _UnsupportedGroupCVMixin):
        return None
    return np.asarray([formula_string(x) for x in dataset.inputs], dtype=object)


def _check_folds(folds, n: int, what: str) -> None:
    def bad(k, why):
        return ValueError(f"split {what} gave a bad fold {k} for {n} rows: {why}")

    if not folds:
        raise ValueError(f"split {what} gave no folds for {n} rows")
    for k, (tr, te) in enumerate(folds):
        for part, idx in (("train", tr), ("test", te)):
            if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
                raise bad(k, f"{part} must be a 1-d array of integer row indices, got "
                             f"dtype {idx.dtype} and shape {idx.shape}")
            if len(idx) and (idx.min() < 0 or idx.max() >= n):
                raise bad(k, f"{part} indices outside 0..{n - 1}")
        if len(te) == 0:
            raise bad(k, "empty test set")
        if len(tr) == 0:
            raise bad(k, "empty training set")
        if len(np.unique(te)) != len(te):
            raise bad(k, "a test row is repeated")
        if len(np.intersect1d(tr, te)):
            raise bad(k, f"{len(np.intersect1d(tr, te))} rows in both train and test")


def describe_split(spec) -> str:
    """How a split is written in records: its name, ``column:<name>``, or the splitter's
    qualified class name and parameters."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, FoldColumn) and spec.column is not None:
        return f"{COLUMN_PREFIX}{spec.column}"
    cls = type(spec)
    if isinstance(spec, FoldColumn):
        params = {"n_folds": spec.get_n_splits()}
    elif callable(getattr(spec, "get_params", None)):
        params = spec.get_params(deep=False)
    else:
        sig = inspect.signature(cls.__init__).parameters.values()
        params = {p.name: getattr(spec, p.name, None) for p in sig
                  if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    args = ", ".join(f"{k}={v!r}" for k, v in sorted(params.items()))
    return f"{_public_module(cls)}.{cls.__qualname__}({args})"


def _public_module(cls) -> str:
    """The shortest public module that exports ``cls`` (sklearn.model_selection, not ._split)."""
    parts = cls.__module__.split(".")
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        if any(p.startswith("_") for p in parts[:i]):
            break
        try:
            if getattr(importlib.import_module(name), cls.__name__, None) is cls:
                return name
        except ImportError:  # pragma: no cover
            break
    return cls.__module__


def default_split(dataset: Dataset) -> str:
    if dataset.task is not None:
        return "official"
    return "stratified" if dataset.is_classification else "kfold"


def needs_features(spec) -> bool:
    """Whether the split may look at X: named splits that cluster the features, and any
    user splitter (it may)."""
    if isinstance(spec, str):
        return spec in SPLIT_SPECS and "X" in SPLIT_SPECS[spec].needs
    return not isinstance(spec, FoldColumn)


def _lists(it):
    return [(np.asarray(tr), np.asarray(te)) for tr, te in it]


def groups_for(dataset: Dataset, kind: str) -> np.ndarray:
    """Group label of each row: 'reduced_formula' or 'chemical_system'. Unparseable rows get
    their own group each."""
    return group_keys(dataset.inputs, kind)


def is_partition(folds, n: int) -> bool:
    tests = np.concatenate([te for _, te in folds]) if folds else np.array([], int)
    return len(tests) == n and len(np.unique(tests)) == n


def split_overlap(dataset: Dataset, folds) -> dict:
    """Chemistry shared between training and test rows of each fold (see module doc)."""
    return chemistry_overlap(dataset, folds)
