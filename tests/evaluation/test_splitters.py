import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.model_selection import (GridSearchCV, GroupKFold, KFold, LeaveOneGroupOut, ShuffleSplit,
                                     StratifiedKFold, check_cv, cross_validate)
from sklearn.pipeline import make_pipeline

from assay.data.chemistry import chemical_system, reduced_formula
from assay.data.dataset import Dataset
from assay.data.folds import MatbenchFolds, official_folds, verify_official_folds
from assay.evaluation.splitters import (SPLIT_SPECS, SPLITS, FeatureClusterKFold, FoldColumn,
                                        LeaveChemicalSystemOut, MonteCarloSplit,
                                        ReducedFormulaGroupKFold, TargetStratifiedKFold,
                                        describe_split, groups_for, is_partition, make_splits,
                                        resolve_splitter, split_overlap)


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


# ------------------------------------------------------------ scikit-learn cross-validators
def _same(a, b):
    a, b = list(a), list(b)
    return len(a) == len(b) and all(np.array_equal(x, z) and np.array_equal(y, w)
                                    for (x, y), (z, w) in zip(a, b))


def _deciles(y):
    edges = np.unique(np.quantile(y, np.linspace(0, 1, 11)[1:-1]))
    return np.digitize(y, edges)


def test_named_splits_are_the_plain_scikit_learn_splits(gap300, steels):
    """Pinned against direct scikit-learn calls: the registry changes no fold."""
    ds, X = gap300
    y, n, z = ds.y(), len(ds), np.zeros(len(ds))
    assert _same(make_splits("kfold", ds, n_folds=5, seed=3), KFold(5, shuffle=True, random_state=3).split(z))
    assert _same(make_splits("stratified", ds, n_folds=4, seed=1),
                 StratifiedKFold(4, shuffle=True, random_state=1).split(z, _deciles(y)))
    assert _same(make_splits("montecarlo", ds, n_folds=6, seed=2),
                 ShuffleSplit(6, test_size=0.2, random_state=2).split(z))
    rf, cs = groups_for(ds, "reduced_formula"), groups_for(ds, "chemical_system")
    assert _same(make_splits("group", ds, n_folds=5, seed=7),
                 GroupKFold(5, shuffle=True, random_state=7).split(z, groups=rf))
    assert _same(make_splits("loco", ds, n_folds=5, seed=7),
                 GroupKFold(5, shuffle=True, random_state=7).split(z, groups=cs))
    few = ds.subset(np.flatnonzero(np.isin(cs, list(dict.fromkeys(cs))[:3])))
    assert _same(make_splits("loco", few, n_folds=5),
                 LeaveOneGroupOut().split(np.zeros(len(few)), groups=groups_for(few, "chemical_system")))
    sds, _ = steels
    assert _same(make_splits("official", sds), official_folds("steels", sds.y()))
    assert n == 300


def test_classification_stratifies_on_the_class():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    ds = Dataset("c", pd.Series(["NaCl"] * 60), pd.Series(y), "composition", "classification", "y")
    assert _same(make_splits("stratified", ds, n_folds=3, seed=5),
                 StratifiedKFold(3, shuffle=True, random_state=5).split(np.zeros(60), y))
    # 'auto' sees a continuous target and uses deciles, the classes otherwise
    yr = rng.normal(size=60)
    assert _same(TargetStratifiedKFold(3).split(None, yr),
                 StratifiedKFold(3).split(np.zeros(60), _deciles(yr)))
    assert _same(TargetStratifiedKFold(3).split(None, y), StratifiedKFold(3).split(np.zeros(60), y))


def _cv_cases(ds):
    return [
        (MatbenchFolds("regression"), False, 5),
        (TargetStratifiedKFold(5, shuffle=True, random_state=0), False, 5),
        (ReducedFormulaGroupKFold(5, shuffle=True, random_state=0), True, 5),
        (LeaveChemicalSystemOut(5, shuffle=True, random_state=0), True, 5),
        (FeatureClusterKFold(4, random_state=0), False, 4),
        (MonteCarloSplit(3, random_state=0), False, 3),
        (FoldColumn("f", labels=np.arange(len(ds)) % 3), False, 3),
    ]


def test_every_class_works_in_cross_validate_and_grid_search(gap300):
    ds, X = gap300
    X = X[:, :8]  # the splitters are under test, not the model: keep it cheap
    y, formulas = ds.y(), ds.inputs.to_numpy()
    est = make_pipeline(SimpleImputer(), Ridge())
    for cv, grouped, k in _cv_cases(ds):
        groups = formulas if grouped else None
        assert check_cv(cv) is cv
        assert cv.get_n_splits(X, y, groups) == k
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # e.g. 'groups ignored' or a bad split
            res = cross_validate(est, X, y, groups=groups, cv=cv, return_indices=True)
        assert len(res["test_score"]) == k
        assert _same(zip(res["indices"]["train"], res["indices"]["test"]), cv.split(X, y, groups))
        gs = GridSearchCV(est, {"ridge__alpha": [0.1, 10.0]}, cv=cv, n_jobs=1)
        gs.fit(X, y, groups=groups)
        assert gs.n_splits_ == k and np.isfinite(gs.best_score_)


def test_cross_validate_with_formulas_gives_the_run_folds(gap300):
    ds, X = gap300
    formulas = list(ds.inputs)
    for name, cv in (("loco", LeaveChemicalSystemOut(5, shuffle=True, random_state=4)),
                     ("group", ReducedFormulaGroupKFold(5, shuffle=True, random_state=4))):
        res = cross_validate(make_pipeline(SimpleImputer(), Ridge()), X[:, :8], ds.y(), groups=formulas,
                             cv=cv, return_indices=True)
        assert _same(zip(res["indices"]["train"], res["indices"]["test"]),
                     make_splits(name, ds, n_folds=5, seed=4))
        assert describe_split(cv).startswith("assay.evaluation.cross_validators.")


def test_chemistry_splitters_need_groups_and_count_systems(gap300):
    ds, X = gap300
    with pytest.raises(ValueError, match="groups"):
        list(LeaveChemicalSystemOut(5).split(X))
    with pytest.raises(ValueError, match="groups"):
        LeaveChemicalSystemOut(5).get_n_splits(X)
    assert LeaveChemicalSystemOut(5).get_n_splits(groups=["Fe2O3", "FeO", "NaCl"]) == 2
    assert len(list(LeaveChemicalSystemOut(5).split(None, groups=["Fe2O3", "FeO", "NaCl"]))) == 2
    # compositions and rows that cannot be parsed: the latter each form their own group
    from pymatgen.core import Composition
    keys = groups_for(Dataset("x", pd.Series(["Fe2O3", "nonsense", Composition("OFe")]),
                              pd.Series([1.0, 2.0, 3.0]), "composition", "regression", "y"),
                      "chemical_system")
    assert list(keys) == ["Fe-O", "__row_1", "Fe-O"]
    with pytest.raises(ValueError, match="pass X"):
        list(FeatureClusterKFold(3).split(None))


def test_matbench_folds_class_is_official_folds(steels):
    ds, _ = steels
    assert _same(MatbenchFolds("regression").split(None, ds.y()), official_folds("steels", ds.y()))
    assert MatbenchFolds().get_n_splits() == 5


# ------------------------------------------------------------ user splitters and fold columns
@pytest.fixture
def user25():
    formulas = ["Fe2O3", "FeO", "Fe3O4", "NaCl", "KCl", "NaBr", "SiO2", "Si", "GaAs", "GaN", "AlN",
                "Al2O3", "MgO", "CaO", "TiO2", "ZrO2", "LiF", "LiCl", "CuO", "Cu2O", "ZnO", "ZnS",
                "CdS", "CdTe", "Fe2O3"]
    ids = pd.Index([f"m{i}" for i in range(25)], name="id")
    return Dataset("u", pd.Series(formulas, index=ids), pd.Series(np.linspace(0, 1, 25), index=ids),
                   "composition", "regression", "y")


def test_user_splitter_through_make_splits(user25):
    ds = user25
    assert _same(make_splits(KFold(3), ds), KFold(3).split(np.zeros(25)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ShuffleSplit must not be handed groups it ignores
        assert len(make_splits(ShuffleSplit(4, random_state=0), ds)) == 4
    # a scikit-learn group splitter gets each row's formula: the two Fe2O3 rows stay together
    for tr, te in make_splits(GroupKFold(5), ds):
        assert (0 in te) == (24 in te)
    # assay's own splitter object gives the named split's folds
    assert _same(make_splits(LeaveChemicalSystemOut(3, shuffle=True, random_state=1), ds),
                 make_splits("loco", ds, n_folds=3, seed=1))
    assert describe_split(KFold(3)) == "sklearn.model_selection.KFold(n_splits=3, random_state=None, shuffle=False)"
    assert describe_split("loco") == "loco"


def test_fold_column(user25):
    ds = user25
    labels = ["b", "a", "c"] * 8 + [None]
    table = pd.DataFrame({"fold": labels, "x": 0})
    folds = make_splits("column:fold", ds, columns=table)
    assert len(folds) == 3
    assert list(folds[0][1]) == [i for i, v in enumerate(labels) if v == "a"]  # sorted label order
    assert all(24 in tr for tr, _ in folds)  # a missing label: always training
    assert _same(make_splits(FoldColumn("fold"), ds, columns=table), folds)
    assert describe_split(FoldColumn("fold")) == "column:fold"
    # aligned by row id when indexed by the ids; numbers written as text are numbers
    by_id = pd.Series([str(i % 2) for i in range(25)], index=ds.ids)[::-1]
    f2 = make_splits("column:f", ds, columns={"f": by_id})
    assert [list(te) for _, te in f2] == [list(range(0, 25, 2)), list(range(1, 25, 2))]
    assert FoldColumn(labels=[0, 1, -1, 1]).get_n_splits() == 2  # -1: never a test row
    with pytest.raises(KeyError, match="no fold column"):
        make_splits("column:nope", ds, columns=table)
    with pytest.raises(KeyError, match="keeps no extra columns"):
        make_splits("column:fold", ds)
    with pytest.raises(ValueError, match="no labels"):
        list(FoldColumn("fold").split())


class _Bad:
    def __init__(self, folds):
        self.folds = folds

    def split(self, X, y=None, groups=None):
        return iter(self.folds)

    def get_n_splits(self, X=None, y=None, groups=None):
        return len(self.folds)


@pytest.mark.parametrize("folds, why", [
    ([(np.arange(0, 20), np.arange(20, 26))], "outside"),
    ([(np.arange(0, 20), np.arange(15, 25))], "both train and test"),
    ([(np.arange(25), np.array([], int))], "empty test"),
    ([(list(range(25)), [])], "empty test"),
    ([(np.array([], int), np.arange(25))], "empty training"),
    ([(np.arange(20), np.array([20, 20, 21]))], "repeated"),
    ([(np.arange(25) < 20, np.arange(25) >= 20)], "integer row indices"),
    ([], "no folds"),
])
def test_bad_user_splitter_is_refused(user25, folds, why):
    with pytest.raises(ValueError, match=why):
        make_splits(_Bad(folds), user25)


def test_registry_entries_and_bad_specs(user25):
    allowed = {"task", "y", "groups:compositions", "X"}
    for name, spec in SPLIT_SPECS.items():
        assert spec.name == name and spec.description == SPLITS[name] and spec.why
        assert set(spec.needs) <= allowed
    assert {n for n, s in SPLIT_SPECS.items() if "groups:compositions" in s.needs} == {"group", "loco"}
    assert isinstance(resolve_splitter("loco", user25, n_folds=3, seed=2), LeaveChemicalSystemOut)
    with pytest.raises(TypeError, match="split"):
        resolve_splitter(42, user25)
    with pytest.raises(ValueError, match="Matbench task"):
        make_splits("official", user25)
