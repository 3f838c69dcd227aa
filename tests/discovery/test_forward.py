"""Forward split: train on the past, test on the next block; never test on older rows."""
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_validate

from assay.data.dataset import Dataset
from assay.evaluation.forward import ForwardSplit
from assay.evaluation.splitters import SPLIT_SPECS, make_splits


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_forward_never_tests_on_rows_older_than_training(seed):
    rng = np.random.default_rng(seed)
    years = rng.integers(1990, 2024, 300)  # shuffled rows, many ties
    years[rng.random(300) < 0.05] = -1
    order = np.where(years < 0, np.nan, years.astype(float))
    folds = list(ForwardSplit(order=order, n_splits=5).split(np.zeros((300, 1))))
    assert len(folds) == 5
    tested = []
    for k, (tr, te) in enumerate(folds):
        assert len(tr) and len(te) and not np.intersect1d(tr, te).size
        assert order[te].min() > order[tr].max()  # strictly newer: ties stay in one block
        assert np.isfinite(order[tr]).all() and np.isfinite(order[te]).all()
        if k:
            assert set(folds[k - 1][0]) < set(tr)  # expanding window
            assert set(folds[k - 1][1]) <= set(tr)  # last fold's test rows are now training
        tested.append(te)
    sizes = [len(t) for t in tested]
    assert max(sizes) < 3 * min(sizes)  # roughly equal blocks


def test_forward_as_a_scikit_learn_splitter_and_in_the_registry():
    dates = pd.Series(pd.date_range("2001-01-01", periods=60, freq="MS").astype(str)).sample(
        frac=1, random_state=0).to_numpy()
    X = np.arange(60.0)[:, None]
    cv = ForwardSplit(order=dates, n_splits=3)
    res = cross_validate(Ridge(), X, X[:, 0], cv=cv)
    assert len(res["test_score"]) == 3 and cv.get_n_splits() == 3
    ds = Dataset("t", pd.Series(["NaCl"] * 60), pd.Series(X[:, 0]), "composition", "regression", "y")
    folds = make_splits(cv, ds)
    assert all(max(dates[tr]) < min(dates[te]) for tr, te in folds)
    assert not SPLIT_SPECS["forward"].partition
    with pytest.raises(KeyError, match="ForwardSplit"):
        make_splits("forward", ds)  # the Dataset keeps no order column yet
    with pytest.raises(ValueError, match="distinct order values"):
        list(ForwardSplit(order=[1, 1, 2, 2], n_splits=3).split(np.zeros((4, 1))))
