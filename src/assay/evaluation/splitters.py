"""How rows are split into training and test folds; every split is a list of (train_idx, test_idx).

Splits by name (``make_splits``):

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
            (LeaveOneGroupOut). With more, systems are packed into ``n_folds`` folds by
            scikit-learn's GroupKFold (largest systems first, each into the currently smallest
            fold; shuffled by ``seed``): every system is still wholly in one test fold, so no test
            row's chemical system occurs in its training rows.

``split_overlap`` reports, per fold, the share of test rows whose chemical system, elements and
reduced formula occur among the training rows (assay.data.audit.chemistry_overlap).
"""
from __future__ import annotations

import numpy as np
from sklearn.model_selection import (GroupKFold, KFold, LeaveOneGroupOut, LeaveOneOut,
                                     ShuffleSplit, StratifiedKFold)

from ..data.dataset import Dataset
from ..data.folds import official_folds

SPLITS = {
    "official": "Matbench's official 5 folds (Matbench tasks only)",
    "kfold": "shuffled k-fold",
    "stratified": "stratified k-fold (class, or target deciles for regression)",
    "loo": "leave-one-out",
    "montecarlo": "repeated random 80/20 splits (n_folds repeats; not a partition)",
    "group": "group k-fold by reduced formula",
    "cluster": "k-means clusters of the features as folds (LOCO-CV)",
    "loco": "leave-one-chemical-system-out (systems packed into n_folds folds when there are more)",
}
#: Splits whose test folds are not a partition of the rows.
NOT_PARTITION = {"montecarlo"}
MONTE_CARLO_TEST_SIZE = 0.2


def make_splits(name: str, dataset: Dataset, *, n_folds: int = 5, seed: int = 0, X=None):
    """Outer folds by name. 'official' needs a Matbench task (its rows in mbid order)."""
    y = dataset.y()
    n = len(y)
    zeros = np.zeros(n)
    if name == "official":
        if dataset.task is None:
            raise ValueError("split='official' needs a Matbench task; use 'kfold' or 'stratified' "
                             "for your own data")
        return official_folds(dataset.task.name, y)
    if name == "kfold":
        return _lists(KFold(n_folds, shuffle=True, random_state=seed).split(zeros))
    if name == "stratified":
        strata = y if dataset.is_classification else _deciles(y)
        return _lists(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(zeros, strata))
    if name == "loo":
        return _lists(LeaveOneOut().split(zeros))
    if name == "montecarlo":
        return _lists(ShuffleSplit(n_splits=n_folds, test_size=MONTE_CARLO_TEST_SIZE,
                                   random_state=seed).split(zeros))
    if name == "group":
        return _group_kfold(groups_for(dataset, "reduced_formula"), n_folds, seed)
    if name == "loco":
        groups = groups_for(dataset, "chemical_system")
        if len(set(groups)) <= n_folds:
            return _lists(LeaveOneGroupOut().split(zeros, groups=groups))
        return _group_kfold(groups, n_folds, seed)
    if name == "cluster":
        if X is None:
            raise ValueError("split='cluster' clusters the features: pass X")
        return cluster_folds(X, n_folds, seed)
    raise KeyError(f"Unknown split {name!r}; known: {', '.join(SPLITS)}")


def default_split(dataset: Dataset) -> str:
    if dataset.task is not None:
        return "official"
    return "stratified" if dataset.is_classification else "kfold"


def needs_features(name: str) -> bool:
    return name == "cluster"


def _lists(it):
    return [(np.asarray(tr), np.asarray(te)) for tr, te in it]


def _deciles(y) -> np.ndarray:
    edges = np.unique(np.quantile(y, np.linspace(0, 1, 11)[1:-1]))
    return np.digitize(y, edges)


def _group_kfold(groups, n_folds: int, seed: int):
    groups = np.asarray(groups)
    n_groups = len(set(groups.tolist()))
    if n_groups < n_folds:
        raise ValueError(f"only {n_groups} groups for {n_folds} folds")
    try:
        gkf = GroupKFold(n_folds, shuffle=True, random_state=seed)
    except TypeError:  # scikit-learn < 1.6: no shuffling; the greedy packing is deterministic
        gkf = GroupKFold(n_folds)
    return _lists(gkf.split(np.zeros(len(groups)), groups=groups))


def groups_for(dataset: Dataset, kind: str) -> np.ndarray:
    """Group label of each row: 'reduced_formula' or 'chemical_system'. Unparseable rows get
    their own group each."""
    from ..data.chemistry import chemical_system, reduced_formula

    fn = {"reduced_formula": reduced_formula, "chemical_system": chemical_system}[kind]
    out = []
    for i, item in enumerate(dataset.inputs):
        try:
            out.append(fn(item))
        except Exception:  # noqa: BLE001 - any parse failure isolates the row
            out.append(f"__row_{i}")
    return np.asarray(out, dtype=object)


def cluster_folds(X, n_folds: int, seed: int):
    from sklearn.cluster import KMeans
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    X = np.asarray(X, dtype=float)
    Z = StandardScaler().fit_transform(SimpleImputer(strategy="median",
                                                     keep_empty_features=True).fit_transform(X))
    Z = np.nan_to_num(Z)
    labels = KMeans(n_clusters=n_folds, n_init=10, random_state=seed).fit_predict(Z)
    # order folds by cluster size (largest first) so fold numbers are stable and readable
    order = [c for c, _ in sorted(enumerate(np.bincount(labels, minlength=n_folds)), key=lambda t: -t[1])]
    idx = np.arange(len(labels))
    return [(idx[labels != c], idx[labels == c]) for c in order if (labels == c).any()]


def is_partition(folds, n: int) -> bool:
    tests = np.concatenate([te for _, te in folds]) if folds else np.array([], int)
    return len(tests) == n and len(np.unique(tests)) == n


def split_overlap(dataset: Dataset, folds) -> dict:
    """Chemistry shared between training and test rows of each fold (see module doc)."""
    from ..data.audit import chemistry_overlap

    return chemistry_overlap(dataset, folds)
