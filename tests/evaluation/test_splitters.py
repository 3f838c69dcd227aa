import numpy as np
import pytest

from assay.data.chemistry import chemical_system, reduced_formula
from assay.data.folds import verify_official_folds
from assay.evaluation.splitters import SPLITS, is_partition, make_splits, split_overlap


def _check_disjoint_complete(folds, n, partition=True):
    for tr, te in folds:
        assert len(np.intersect1d(tr, te)) == 0
        assert len(tr) + len(te) == n
        assert len(np.union1d(tr, te)) == n
        assert len(np.unique(te)) == len(te)
    if partition:
        assert is_partition(folds, n)


@pytest.mark.parametrize("name", ["kfold", "stratified", "montecarlo", "group", "cluster", "loco"])
def test_every_split_is_disjoint_complete_and_deterministic(name, gap300):
    ds, X = gap300
    folds = make_splits(name, ds, n_folds=5, seed=3, X=X)
    _check_disjoint_complete(folds, len(ds), partition=name != "montecarlo")
    again = make_splits(name, ds, n_folds=5, seed=3, X=X)
    for (a, b), (c, d) in zip(folds, again):
        assert np.array_equal(a, c) and np.array_equal(b, d)
    ov = split_overlap(ds, folds)
    assert len(ov["folds"]) == len(folds)
    assert 0.0 <= ov["mean_chemsys_seen_share"] <= 1.0


def test_official_folds_are_matbench(steels):
    ds, _ = steels
    folds = make_splits("official", ds)
    _check_disjoint_complete(folds, len(ds))
    assert verify_official_folds(ds.name, ds.y())


def test_loo(steels):
    ds, _ = steels
    sub = ds.subset(np.arange(25))
    folds = make_splits("loo", sub)
    assert len(folds) == 25 and all(len(te) == 1 for _, te in folds)
    _check_disjoint_complete(folds, 25)


def test_stratified_regression_balances_target(gap300):
    ds, _ = gap300
    folds = make_splits("stratified", ds, n_folds=5, seed=0)
    means = [ds.y()[te].mean() for _, te in folds]
    assert np.ptp(means) < 0.25 * ds.y().std()


def test_group_keeps_reduced_formulas_together(gap300):
    ds, _ = gap300
    keys = np.array([reduced_formula(f) for f in ds.inputs])
    for tr, te in make_splits("group", ds, n_folds=5, seed=0):
        assert not set(keys[tr]) & set(keys[te])


def test_loco_keeps_chemical_systems_together_and_reports_no_overlap(gap300):
    ds, _ = gap300
    systems = np.array([chemical_system(f) for f in ds.inputs])
    folds = make_splits("loco", ds, n_folds=5, seed=0)
    assert len(folds) == 5
    for tr, te in folds:
        assert not set(systems[tr]) & set(systems[te])
    assert split_overlap(ds, folds)["mean_chemsys_seen_share"] == 0.0
    # few systems: one fold per system
    few = ds.subset(np.flatnonzero(np.isin(systems, list(dict.fromkeys(systems))[:3])))
    f3 = make_splits("loco", few, n_folds=5)
    assert len(f3) == 3


def test_cluster_folds_are_kmeans_clusters(gap300):
    ds, X = gap300
    folds = make_splits("cluster", ds, n_folds=4, seed=0, X=X)
    assert len(folds) == 4
    sizes = [len(te) for _, te in folds]
    assert sizes == sorted(sizes, reverse=True)
    with pytest.raises(ValueError):
        make_splits("cluster", ds, n_folds=4)


def test_unknown_split(steels):
    with pytest.raises(KeyError, match="known"):
        make_splits("nope", steels[0])
    assert {"official", "loco", "cluster", "group", "montecarlo", "loo"} <= set(SPLITS)
