"""THE paired test (assay.evaluation.stats): its edge cases, pinned."""
import math

import numpy as np
import pytest
from scipy import stats as sst

from assay.evaluation import controls
from assay.evaluation.stats import ALPHA, paired_test


def test_one_implementation_reexported_by_controls():
    assert controls.paired_test is paired_test and controls.ALPHA == ALPHA == 0.05


def test_n_equal_one_has_no_p_values():
    r = paired_test([1.0], [2.0], higher_is_better=False)
    assert r["n_folds"] == 1 and r["mean_gain"] == 1.0 and r["folds_better"] == 1
    assert r["p_ttest"] is None and r["p_wilcoxon"] is None
    assert r["beats"] is False and r["verdict"] == "too few folds to test"


def test_n_zero_after_nan_folds():
    r = paired_test([np.nan, 1.0], [2.0, np.nan], higher_is_better=False)
    assert r["n_folds"] == 0 and math.isnan(r["mean_gain"]) and r["folds_better"] == 0
    assert r["p_ttest"] is None and r["verdict"] == "too few folds to test" and not r["beats"]


def test_all_equal_gains():
    # positive constant gain: no spread, but every fold better -> p = 0
    r = paired_test([1.0, 2.0, 3.0], [2.0, 3.0, 4.0], higher_is_better=False)
    assert r["p_ttest"] == 0.0 and r["beats"] and r["verdict"] == "better"
    # the same constant gain, seen from the other side -> p = 1
    r = paired_test([2.0, 3.0, 4.0], [1.0, 2.0, 3.0], higher_is_better=False)
    assert r["p_ttest"] == 1.0 and not r["beats"] and r["verdict"] == "not better"
    # identical scores on 5 folds: both tests say 1, nothing is better
    r = paired_test([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], higher_is_better=True)
    assert r["p_ttest"] == 1.0 and r["p_wilcoxon"] == 1.0 and r["folds_better"] == 0
    assert r["verdict"] == "not better"


def test_wilcoxon_only_from_five_folds():
    a, b = [0.9, 0.8, 0.85, 0.95], [0.5, 0.5, 0.5, 0.55]
    r4 = paired_test(a, b, higher_is_better=True)
    assert r4["p_wilcoxon"] is None and r4["p_ttest"] is not None
    r5 = paired_test(a + [0.7], b + [0.6], higher_is_better=True)
    assert r5["p_wilcoxon"] == pytest.approx(1 / 32)  # a clean sweep of 5 folds


def test_nan_folds_are_dropped_pairwise():
    a = [1.0, 1.1, np.nan, 0.9, 1.0, 1.05, 1.2]
    b = [2.0, 2.1, 1.5, 1.8, np.nan, 2.0, 2.3]
    r = paired_test(a, b, higher_is_better=False)
    kept = paired_test([1.0, 1.1, 0.9, 1.05, 1.2], [2.0, 2.1, 1.8, 2.0, 2.3], higher_is_better=False)
    assert r == kept and r["n_folds"] == 5


def test_t_test_is_one_sided_on_the_gain_and_direction_follows_the_metric():
    a = np.array([0.30, 0.28, 0.35, 0.31, 0.29])
    b = np.array([0.32, 0.27, 0.38, 0.36, 0.30])
    lower = paired_test(a, b, higher_is_better=False)  # a has the lower error: gain = b - a
    assert lower["p_ttest"] == pytest.approx(sst.ttest_1samp(b - a, 0.0, alternative="greater").pvalue)
    assert lower["mean_gain"] == pytest.approx(np.mean(b - a)) and lower["folds_better"] == 4
    higher = paired_test(a, b, higher_is_better=True)
    # the two one-sided p-values of one pair add up to 1, and the smaller one is half the
    # two-sided paired t-test (what `assay compare` used to show)
    assert lower["p_ttest"] + higher["p_ttest"] == pytest.approx(1.0)
    assert min(lower["p_ttest"], higher["p_ttest"]) == pytest.approx(sst.ttest_rel(a, b).pvalue / 2)


def test_significance_needs_a_positive_mean_gain_and_p_below_alpha():
    noisy = paired_test([1.0, 3.0, 1.0, 3.0, 1.9], [2.0, 2.0, 2.0, 2.0, 2.0], higher_is_better=False)
    assert noisy["mean_gain"] > 0 and noisy["p_ttest"] > ALPHA
    assert not noisy["beats"] and noisy["verdict"] == "not significantly better"


def test_float_noise_is_no_gain():
    """A model re-scored against its own record (differences ~1e-15) is not 'better'."""
    a = np.array([0.8802, 0.861, 0.9, 0.87, 0.89])
    b = a - np.array([1e-16, 2e-16, 1e-16, 1e-16, 3e-16])
    out = paired_test(a, b, higher_is_better=True)
    assert out["folds_better"] == 0 and out["verdict"] == "not better" and out["p_ttest"] == 1.0
