import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestRegressor

from assay.explanation.groups import aggregate_by_group, feature_group
from assay.explanation.importance import grouped_permutation_importance, permutation_importance_heldout
from assay.explanation.surrogate import describe_tree, surrogate_fold, tree_surrogate


@pytest.mark.parametrize("label,group", [
    ("MagpieData mean Electronegativity", "electronegativity"),
    ("MagpieData range Electronegativity", "electronegativity"),
    ("PymatgenData std_dev X", "electronegativity"),
    ("MagpieData avg_dev CovalentRadius", "atomic size"),
    ("MagpieData maximum NdValence", "valence electrons"),
    ("frac d valence electrons", "valence electrons"),
    ("MagpieData mean MeltingT", "melting / thermal"),
    ("density", "density / packing"),
    ("packing fraction", "density / packing"),
    ("spacegroup number", "symmetry"),
    ("crystal system", "symmetry"),
    ("mean bond length", "bonding"),
    ("mean coordination number", "coordination"),
    ("2-norm", "stoichiometry"),
    ("Fe", "element fractions"),
    ("something new", "other"),
])
def test_feature_groups(label, group):
    assert feature_group(label) == group


def _labelled_data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    labels = ["MagpieData mean Electronegativity", "MagpieData range Electronegativity",
              "MagpieData mean CovalentRadius", "density", "spacegroup number"]
    X = rng.normal(size=(n, len(labels)))
    y = 3 * X[:, 0] + 2 * X[:, 1] + 0.5 * X[:, 3] + rng.normal(0, 0.1, n)
    return X, y, labels


def test_grouped_importance_finds_the_physical_driver():
    X, y, labels = _labelled_data()
    m = RandomForestRegressor(50, random_state=0, n_jobs=1).fit(X[:300], y[:300])
    g = grouped_permutation_importance(m, X[300:], y[300:], labels, n_repeats=2)
    assert g.iloc[0]["group"] == "electronegativity"
    assert g.set_index("group").loc["electronegativity", "n_features"] == 2
    per = permutation_importance_heldout(m, X[300:], y[300:], labels, n_repeats=2)
    assert per.iloc[0]["feature"] == "MagpieData mean Electronegativity"
    agg = aggregate_by_group(pd.Series(per.set_index("feature")["importance"]))
    top = agg.iloc[0]
    assert top["group"] == "electronegativity" and top["n_features"] == 2
    assert top["importance"] == pytest.approx(per[per.group == "electronegativity"]["importance"].sum())


def test_surrogate_fidelity_is_reported_and_meaningful():
    X, y, labels = _labelled_data(600)
    step = lambda A: np.where(A[:, 0] > 0, 2.0, -1.0) + np.where(A[:, 3] > 1, 1.0, 0.0)  # noqa: E731
    r = surrogate_fold(X[:400], step(X[:400]), X[400:], step(X[400:]), labels, max_depth=3)
    assert r["tree"]["r2"] > 0.95  # a depth-3 tree reproduces a 2-split model
    assert 0.0 <= r["linear"]["r2"] <= 1.0
    noisy = np.sin(5 * X[:, 2]) * np.cos(5 * X[:, 4])  # a depth-3 tree cannot mimic this
    r2 = surrogate_fold(X[:400], noisy[:400], X[400:], noisy[400:], labels, max_depth=3)
    assert r2["tree"]["r2"] < 0.5
    d = describe_tree(tree_surrogate(3).fit(X, step(X)), labels)
    assert "MagpieData mean Electronegativity" in d["features_used"] and d["depth"] <= 3


def test_shap_tree_and_fallback():
    from sklearn.neighbors import KNeighborsRegressor

    from assay.explanation.shap_values import explain
    from assay.models.zoo import make_model

    X, y, labels = _labelled_data(300)
    lgbm = make_model("lgbm", "regression").set_params(n_estimators=50).fit(X, y)
    r = explain(lgbm, X[:40], labels, max_rows=30)
    assert r.method == "tree" and r.values.shape == (30, 5)
    np.testing.assert_allclose(r.values.sum(1) + r.base_value, lgbm.predict(r.X.to_numpy()), atol=1e-6)
    assert r.mean_abs().index[0] == "MagpieData mean Electronegativity"
    knn = KNeighborsRegressor(5).fit(X, y)
    r2 = explain(knn, X[:10], labels, X_background=X, background_size=20)
    assert r2.method == "permutation" and r2.values.shape == (10, 5)


def test_carbon_is_an_element_not_a_lattice_parameter():
    from assay.explanation.groups import feature_group
    assert feature_group("C") == "element fractions"
    assert feature_group("c") == feature_group("a") == "lattice / cell"
