"""The statistics the audit and the cleaning steps share, so both agree on the numbers: target
summaries, outlier masks, and the robust target scale behind the duplicate tolerance.

Why robust: one absurd value (2.9e6 among values around 5) inflates the standard deviation
a million-fold; a tolerance of 0.1 std then calls every pair of duplicates "in agreement".
The median absolute deviation ignores such a value.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .dataset import Dataset

IQR_FACTOR = 1.5
Z_THRESHOLD = 3.0
ROBUST_THRESHOLD = 10.0  # robust z beyond which a value is an extreme outlier
TOLERANCE_SHARE = 0.1    # duplicates disagree when they spread more than this x robust scale
MAD_TO_STD = 1.4826      # MAD x this = std for normally distributed values
IQR_TO_STD = 1.349       # IQR / this = std for normally distributed values


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else None
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return _json_safe(obj.tolist())
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    return str(obj)


# ----------------------------------------------------------------------------- statistics
def describe(values) -> dict:
    """count, mean, std, min, q1, median, q3, max, skew, kurtosis (excess) of finite values."""
    x = pd.Series(np.asarray(values, dtype=float))
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return {"count": 0}
    q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    return {"count": int(len(x)), "mean": float(x.mean()), "std": float(x.std()),
            "min": float(x.min()), "q1": float(q1), "median": float(med), "q3": float(q3),
            "max": float(x.max()), "skew": float(x.skew()) if len(x) > 2 else float("nan"),
            "kurtosis": float(x.kurt()) if len(x) > 3 else float("nan")}


def iqr_outliers(y, factor: float = IQR_FACTOR) -> tuple[np.ndarray, float, float]:
    """Boolean mask of values outside [Q1 - factor*IQR, Q3 + factor*IQR], and the fences."""
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    if not ok.any():
        return np.zeros(len(y), bool), float("nan"), float("nan")
    q1, q3 = np.quantile(y[ok], [0.25, 0.75])
    lo, hi = q1 - factor * (q3 - q1), q3 + factor * (q3 - q1)
    return ok & ((y < lo) | (y > hi)), float(lo), float(hi)


def zscore_outliers(y, threshold: float = Z_THRESHOLD) -> np.ndarray:
    """Boolean mask of values with |z| > threshold (z from the sample mean and std)."""
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    if ok.sum() < 2:
        return np.zeros(len(y), bool)
    sd = y[ok].std(ddof=1)
    if sd == 0:
        return np.zeros(len(y), bool)
    z = np.zeros(len(y))
    z[ok] = (y[ok] - y[ok].mean()) / sd
    return ok & (np.abs(z) > threshold)


def robust_scale(y) -> float:
    """A spread that one wild value cannot inflate: 1.4826 x MAD; where more than half the values
    are equal (MAD 0), IQR / 1.349; where that is 0 too, the sample std. NaN/inf are ignored."""
    y = np.asarray(y, dtype=float)
    y = y[np.isfinite(y)]
    if len(y) < 2:
        return 0.0
    med = np.median(y)
    scale = MAD_TO_STD * float(np.median(np.abs(y - med)))
    if scale == 0:
        q1, q3 = np.quantile(y, [0.25, 0.75])
        scale = float(q3 - q1) / IQR_TO_STD
    if scale == 0:
        with np.errstate(over="ignore", invalid="ignore"):
            scale = float(y.std(ddof=1))
    return scale if math.isfinite(scale) else 0.0


def robust_outliers(y, threshold: float = ROBUST_THRESHOLD) -> np.ndarray:
    """Boolean mask of values more than ``threshold`` robust scales from the median; unlike
    |z| > 3, a single huge value cannot hide itself by inflating the std."""
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    scale = robust_scale(y)
    if scale == 0 or ok.sum() < 2:
        return np.zeros(len(y), bool)
    dev = np.zeros(len(y))
    dev[ok] = np.abs(y[ok] - np.median(y[ok])) / scale
    return ok & (dev > threshold)


def conflict_tolerance(dataset: Dataset, tolerance: float | None = None) -> float:
    """How far duplicate targets may spread before they 'disagree': by default 10% of the robust
    target scale (see robust_scale), never below float noise (1e-9 x the median's size)."""
    if tolerance is not None:
        return float(tolerance)
    y = np.asarray(dataset.target, dtype=float)
    y = y[np.isfinite(y)]
    if len(y) < 2:
        return 0.0
    return max(TOLERANCE_SHARE * robust_scale(y), 1e-9 * abs(float(np.median(y))))


def is_conflicting(targets, task_type: str, tolerance: float) -> bool:
    t = [v for v in targets if not (isinstance(v, float) and math.isnan(v))]
    if task_type == "classification":
        return len(set(t)) > 1
    return bool(t) and bool((max(t) - min(t)) > tolerance)

