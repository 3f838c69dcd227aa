import numpy as np

from assay.explanation.domain import DomainModel, chemsys_group_splits, learn_threshold


def test_unseen_element_and_far_rows_are_flagged():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    formulas = ["Fe2O3", "NiO", "FeNi", "Fe3O4"] * 50
    oof_err = np.abs(rng.normal(size=200)) * (1 + np.linalg.norm(X, axis=1))
    dm = DomainModel(n_neighbors=5).fit(X, formulas, oof_distance=np.linalg.norm(X, axis=1),
                                        oof_error=oof_err)
    new = np.vstack([X[:1] + 0.01, X[:1] + 0.01, np.full((1, 4), 25.0)])
    out = dm.assess(new, ["Fe2O3", "UO2", "NiO"])
    assert list(out["in_domain"]) == [True, False, False]
    assert "unseen element U" in out.loc[1, "reason"]
    assert out.loc[1, "unseen_elements"] == "U"
    assert "far from training data" in out.loc[2, "reason"]
    assert bool(out.loc[0, "chemsys_seen"]) and not bool(out.loc[1, "chemsys_seen"])
    assert out.loc[2, "distance"] > out.loc[0, "distance"]


def test_threshold_where_error_rises():
    rng = np.random.default_rng(1)
    d = rng.uniform(0, 10, 2000)
    err = np.where(d > 7, 3.0, 0.5) + rng.uniform(0, 0.1, 2000)
    t = learn_threshold(d, err, error_quantile=0.8)
    assert 6.0 <= t["threshold"] <= 7.6
    flat = learn_threshold(d, np.ones(2000) + rng.uniform(0, 0.01, 2000))
    assert flat["threshold"] >= 9.0  # no rise: only beyond the validated range


def test_chemical_system_groups_never_straddle_folds():
    from assay.data.chemistry import chemical_system

    formulas = ["Fe2O3", "FeO", "NiO", "Ni2O3", "CuO", "Cu2O", "ZnO", "TiO2", "Ti2O3", "MgO"]
    for tr, te in chemsys_group_splits(formulas, n_folds=3):
        assert not ({chemical_system(formulas[i]) for i in tr} & {chemical_system(formulas[i]) for i in te})
