"""Computations behind the report's lecture items: periodic-table layout and per-element
aggregates, the PCA map, feature-level outlier counts and the feature ranking fallback."""
import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Composition

from assay.explanation.chemical_space import error_by_remoteness, pca_map, standardise
from assay.explanation.feature_outliers import outlier_counts, robust_z
from assay.explanation.periodic_table import element_table, grid, position


def test_periodic_positions_put_f_block_on_their_own_rows():
    assert position("H") == (0, 0) and position("He") == (0, 17) and position("Fe") == (3, 7)
    assert position("La") == (8, 2) and position("Lu") == (8, 16)
    assert position("U") == (9, 5) and position("Hf") == (5, 3)


def test_element_table_counts_means_and_errors():
    inputs = ["Fe2O3", "FeNi", Composition("NiO"), "not a formula"]
    y = np.array([1.0, 3.0, 5.0, 9.0])
    err = np.array([0.1, 0.3, np.nan, 1.0])
    t = element_table(inputs, y, err).set_index("element")
    assert t.attrs["unparsed"] == 1 and set(t.index) == {"Fe", "O", "Ni"}
    assert t.loc["Fe", "count"] == 2 and t.loc["Fe", "mean_target"] == 2.0
    assert t.loc["Ni", "mean_target"] == 4.0 and t.loc["Ni", "mean_abs_error"] == pytest.approx(0.3)
    assert t.loc["O", "fraction"] == pytest.approx(2 / 3)
    g = grid(t.reset_index(), "count")
    assert g.shape == (10, 18) and g[3, 7] == 2 and np.isnan(g[0, 0])


def test_pca_map_and_remoteness():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5)) * [1, 10, 100, 1, 1]
    X[:, 4] = 3.0  # constant: dropped
    X[5, 0] = np.nan  # imputed
    Z = standardise(X)
    assert Z.shape == (200, 4) and np.allclose(Z.std(0), 1)
    m = pca_map(X)
    assert m["coords"].shape == (200, 2) and m["n_features"] == 4 and 0 < sum(m["explained"]) <= 1
    err = np.linalg.norm(Z, axis=1)  # errors grow with distance from the centre
    rem = error_by_remoteness(X, err)
    assert rem["far"] > rem["near"] and rem["n_far"] == 20
    with pytest.raises(ValueError, match="at least"):
        pca_map(X[:2])


def test_outlier_counts_use_training_fold_quantiles():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((100, 2))
    X[3, 0] = 50.0  # one far-out value
    folds = np.repeat([0, 1], 50)
    X[folds == 1, 1] += 100  # the test fold 1 lies wholly beyond fold 0's range (and vice versa)
    c = outlier_counts(X, ["a", "b"], folds, q=0.05, z=5).set_index("feature")
    assert c.loc["a", "n_robust_z"] == 1 and c.loc["a", "max_robust_z"] > 20
    assert c.loc["b", "clip_test_values"] == 100  # every test value beyond its training bounds
    assert c.loc["a", "clip_test_values"] < 20
    assert np.isnan(robust_z(np.array([[np.nan], [1.0], [2.0]]))[0, 0])
