import numpy as np
import pytest

from assay.evaluation.controls import compare, paired_test, random_features, scramble
from assay.evaluation.metrics import classification_scores
from assay.evaluation.search import choose_threshold


def test_paired_test_directions():
    good = [1.0, 1.1, 0.9, 1.0, 1.05]
    bad = [2.0, 2.1, 1.8, 2.2, 2.0]
    r = paired_test(good, bad, higher_is_better=False)
    assert r["beats"] and r["p_ttest"] < 0.01 and r["p_wilcoxon"] == pytest.approx(1 / 32)
    assert not paired_test(bad, good, higher_is_better=False)["beats"]
    assert paired_test([0.9, 0.8, 0.85], [0.5, 0.5, 0.5], higher_is_better=True)["p_wilcoxon"] is None
    assert paired_test([1.0], [2.0], False)["verdict"] == "too few folds to test"


def test_compare_rows():
    out = compare({"dummy": [2, 2, 2], "m": [1, 1.1, 0.9]}, {"m": {"scrambled-target": [2, 2.1, 1.9]}},
                  ["dummy"], "mae", False)
    kinds = {(r["model"], r["versus"]): r for r in out["rows"]}
    assert kinds[("m", "dummy")]["beats"] and kinds[("m", "m [scrambled-target]")]["kind"] == "control"
    assert ("dummy", "dummy") not in kinds


def test_random_features_same_width_and_composition_pooled(steels):
    ds, X = steels
    R, kind = random_features(ds, X.shape[1], seed=0)
    assert R.shape == X.shape and "per-element" in kind
    R2, _ = random_features(ds, 50, seed=1)
    assert R2.shape == (len(ds), 50)
    # same composition -> same random features (they are a function of composition only)
    assert np.allclose(random_features(ds.subset([0, 0]), 50, seed=1)[0][0],
                       random_features(ds.subset([0, 0]), 50, seed=1)[0][1])


def test_scramble_is_a_permutation():
    y = np.arange(100.0)
    s = scramble(y, 0, 1)
    assert sorted(s) == sorted(y) and not np.array_equal(s, y)
    assert np.array_equal(s, scramble(y, 0, 1))


def test_threshold_chosen_inside_training_rows():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5))
    y = (X[:, 0] + 0.5 * rng.standard_normal(300) > 1.0).astype(int)  # imbalanced
    t = choose_threshold("logistic", "classification", {}, X, y, seed=0)
    assert 0 < t["threshold"] < 0.5  # imbalance pushes the best threshold below 0.5
    assert t["inner_balanced_accuracy"] >= t["inner_balanced_accuracy_at_0.5"]
    assert classification_scores([0, 1], [0, 1])["balanced_accuracy"] == 1.0
