"""THE paired test of assay: is one set of fold scores better than another over the same folds?

Every comparison in assay (``comparison.json`` written by the run, the report's fallback when a
pair is missing there, ``assay compare``) goes through :func:`paired_test`, so one pair of fold
scores gets one p-value wherever it is shown.

The test is one-sided (H1: ``a`` is better), paired over folds: a t-test on the per-fold gains
and, with at least 5 folds, a Wilcoxon signed-rank test beside it. Edge cases, pinned by
tests/evaluation/test_stats.py:

- folds where either score is NaN are dropped before anything is computed;
- n < 2: no p-values, verdict "too few folds to test";
- gains within float noise (rtol 1e-12) of zero count as zero;
- all gains equal (no spread, the t statistic is undefined): p_ttest is 0.0 when the common
  gain is positive, else 1.0;
- n < 5: no Wilcoxon (even a clean sweep of 4 folds cannot reach p < 0.05); all gains zero: 1.0.
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

ALPHA = 0.05


def paired_test(a, b, higher_is_better: bool) -> dict:
    """Is ``a`` better than ``b`` over paired folds? One-sided tests; p-values None where n is
    too small (t-test n < 2; Wilcoxon n < 5, where even a clean sweep cannot reach p < 0.05).

    Returns ``{n_folds, mean_gain, folds_better, p_ttest, p_wilcoxon, beats, verdict}``; the
    gain is positive where ``a`` is better, and ``beats`` = mean gain > 0 and p_ttest < ALPHA.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    gain = (a - b) if higher_is_better else (b - a)  # positive: a is better
    # Float noise is no gain: a model re-scored against its own record differs by ~1e-15,
    # which would otherwise read as "all gains equal and positive" -> p = 0, "better".
    gain = np.where(np.isclose(a, b, rtol=1e-12, atol=1e-15), 0.0, gain)
    n = len(gain)
    out = {"n_folds": int(n), "mean_gain": float(gain.mean()) if n else float("nan"),
           "folds_better": int((gain > 0).sum()), "p_ttest": None, "p_wilcoxon": None}
    if n >= 2:
        if np.allclose(gain, gain[0]):
            out["p_ttest"] = 0.0 if gain[0] > 0 else 1.0
        else:
            out["p_ttest"] = float(stats.ttest_1samp(gain, 0.0, alternative="greater").pvalue)
    if n >= 5:
        if np.all(gain == 0):
            out["p_wilcoxon"] = 1.0
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                try:
                    out["p_wilcoxon"] = float(stats.wilcoxon(gain, alternative="greater").pvalue)
                except ValueError:
                    out["p_wilcoxon"] = 1.0
    ps = [p for p in (out["p_ttest"], out["p_wilcoxon"]) if p is not None]
    out["beats"] = bool(n >= 2 and out["mean_gain"] > 0 and out["p_ttest"] is not None
                        and out["p_ttest"] < ALPHA)
    out["verdict"] = ("better" if out["beats"] else
                      "not significantly better" if n >= 2 and out["mean_gain"] > 0 else
                      "not better" if n >= 2 else "too few folds to test")
    if not ps:
        out["verdict"] = "too few folds to test"
    return out
