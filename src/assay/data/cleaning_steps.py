"""The cleaning steps themselves. Outliers and duplicates are defined as in the audit
(audit_stats, audit_groups), so the audit's counts are what cleaning acts on."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from .audit_groups import duplicate_groups
from .audit_stats import (IQR_FACTOR, ROBUST_THRESHOLD, Z_THRESHOLD, conflict_tolerance,
                          iqr_outliers, is_conflicting, robust_outliers, zscore_outliers)
from .chemistry import DUPLICATE_LEVELS
from .cleaning_base import CleaningError, Step, _rebuild, _require_regression


class Impute(Step):
    name = "impute"

    def __init__(self, strategy: str = "mean"):
        if strategy not in ("mean", "median"):
            raise ValueError(f"impute strategy must be 'mean' or 'median', not {strategy!r}")
        self.strategy = strategy

    def params(self):
        return {"strategy": self.strategy}

    def __call__(self, dataset):
        _require_regression(dataset, "impute")
        y = pd.to_numeric(dataset.target, errors="coerce").astype(float)
        miss = ~np.isfinite(y.to_numpy())
        if miss.all():
            raise CleaningError(f"impute: every target value of {dataset.name} is missing.")
        ok = y[~miss]
        value = float(ok.mean() if self.strategy == "mean" else ok.median())
        new_y = y.copy()
        new_y[miss] = value
        new = _rebuild(dataset, dataset.inputs, new_y, repr(self))
        ids = list(dataset.ids[miss])
        details = [{"id": i, "before": None, "after": value} for i in ids]
        return new, self._entry(dataset, new, [], ids, details, value=value)


class Winsorize(Step):
    name = "winsorize"

    def __init__(self, lower: float = 0.01, upper: float = 0.99):
        if not (0 <= lower < upper <= 1):
            raise ValueError(f"winsorize needs 0 <= lower < upper <= 1, got {lower}, {upper}")
        self.lower, self.upper = float(lower), float(upper)

    def params(self):
        return {"lower": self.lower, "upper": self.upper}

    def __call__(self, dataset):
        _require_regression(dataset, "winsorize")
        y = dataset.target.astype(float)
        arr = y.to_numpy()
        ok = np.isfinite(arr)
        lo, hi = np.quantile(arr[ok], [self.lower, self.upper])
        capped = arr.copy()
        capped[ok] = np.clip(arr[ok], lo, hi)
        moved = ok & (capped != arr)
        new = _rebuild(dataset, dataset.inputs, pd.Series(capped, index=y.index, name=y.name),
                       repr(self))
        ids = list(dataset.ids[moved])
        details = [{"id": i, "before": float(b), "after": float(a)}
                   for i, b, a in zip(ids, arr[moved], capped[moved])]
        return new, self._entry(dataset, new, [], ids, details, lower_value=float(lo),
                                upper_value=float(hi))


class Remove(Step):
    name = "remove"

    def __init__(self, rows, reason: str):
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError("remove needs a reason, so the report can say why rows went")
        if not callable(rows) and isinstance(rows, (str, bytes)):
            rows = [rows]
        self.rows = rows if callable(rows) else list(rows)
        self.reason = reason

    def params(self):
        rows = self.rows if callable(self.rows) else list(self.rows)
        return {"rows": rows, "reason": self.reason}

    def __call__(self, dataset):
        if callable(self.rows):
            mask = np.array([bool(self.rows(x, t)) for x, t in zip(dataset.inputs, dataset.target)],
                            dtype=bool)
        else:
            known = set(dataset.ids)
            unknown = [r for r in self.rows if r not in known]
            if unknown:
                raise CleaningError(f"remove: {len(unknown)} ids are not in {dataset.name}: "
                                    f"{unknown[:10]}")
            mask = np.asarray(dataset.ids.isin(self.rows))
        return self._drop(dataset, mask, self.reason)


class RemoveOutliers(Step):
    """'iqr': outside the Tukey fences; 'zscore': |z| > threshold (default 3); 'robust': more
    than threshold (default 10) robust scales from the median, which one huge value cannot mask
    the way it masks itself from |z| by inflating the std."""

    name = "remove_outliers"

    def __init__(self, method: str = "iqr", factor: float = IQR_FACTOR,
                 threshold: float | None = None):
        if method not in ("iqr", "zscore", "robust"):
            raise ValueError(f"remove_outliers method must be 'iqr', 'zscore' or 'robust', "
                             f"not {method!r}")
        if threshold is None:
            threshold = ROBUST_THRESHOLD if method == "robust" else Z_THRESHOLD
        self.method, self.factor, self.threshold = method, float(factor), float(threshold)

    def params(self):
        if self.method == "iqr":
            return {"method": "iqr", "factor": self.factor}
        return {"method": self.method, "threshold": self.threshold}

    def __call__(self, dataset):
        _require_regression(dataset, "remove_outliers")
        y = dataset.target.to_numpy(dtype=float)
        if self.method == "iqr":
            mask, lo, hi = iqr_outliers(y, self.factor)
            reason = f"target outside the IQR fences [{lo:.4g}, {hi:.4g}]"
        elif self.method == "robust":
            mask = robust_outliers(y, self.threshold)
            reason = f"target more than {self.threshold:g} robust scales from the median"
        else:
            mask = zscore_outliers(y, self.threshold)
            reason = f"target |z| > {self.threshold:g}"
        return self._drop(dataset, mask, reason)


class MergeDuplicates(Step):
    name = "merge_duplicates"

    def __init__(self, level: str = "reduced_formula", how: str | None = None,
                 drop_conflicting: bool = False, tolerance: float | None = None):
        if level not in DUPLICATE_LEVELS:
            raise ValueError(f"merge_duplicates level must be one of {DUPLICATE_LEVELS}, "
                             f"not {level!r}")
        if how not in (None, "mean", "median", "first", "mode"):
            raise ValueError(f"merge_duplicates how must be mean, median, first or mode, "
                             f"not {how!r}")
        self.level, self.how, self.drop_conflicting, self.tolerance = (
            level, how, bool(drop_conflicting), tolerance)

    def params(self):
        return {"level": self.level, "how": self.how, "drop_conflicting": self.drop_conflicting,
                "tolerance": self.tolerance}

    def __call__(self, dataset):
        how = self.how or ("mode" if dataset.is_classification else "mean")
        if dataset.is_classification and how in ("mean", "median"):
            raise CleaningError(f"merge_duplicates: class labels cannot be averaged (how={how!r});"
                                f" use how='mode' (majority) or 'first', or drop_conflicting=True.")
        tol = conflict_tolerance(dataset, self.tolerance)
        groups = duplicate_groups(dataset, self.level)
        ids = list(dataset.ids)
        new_y = dataset.target.copy() if dataset.is_classification else dataset.target.astype(float)
        y = new_y.tolist()
        drop = np.zeros(len(dataset), dtype=bool)
        removed, changed, details = [], [], []
        for g in groups:
            t = [y[i] for i in g]
            conflict = bool(is_conflicting(t, dataset.task_type, tol))
            entry = {"ids": [ids[i] for i in g], "targets": t, "conflicting": conflict}
            if conflict and self.drop_conflicting:
                drop[g] = True
                removed += entry["ids"]
                details.append({**entry, "action": "dropped (conflicting targets)"})
                continue
            value = _aggregate(t, how)
            drop[g[1:]] = True
            removed += entry["ids"][1:]
            if value != y[g[0]]:
                new_y.iloc[g[0]] = value
                changed.append(ids[g[0]])
            details.append({**entry, "action": f"merged into {ids[g[0]]!r}", "kept_id": ids[g[0]],
                            "new_target": value})
        keep = ~drop
        new = _rebuild(dataset, dataset.inputs[keep], new_y[keep], repr(self))
        return new, self._entry(dataset, new, removed, changed, details, tolerance=tol,
                                how=how, n_groups=len(groups))


def _aggregate(values, how: str):
    if how == "first":
        return values[0]
    if how == "mode":
        counts = Counter(values)
        top = max(counts.values())
        return next(v for v in values if counts[v] == top)  # ties: the earliest row wins
    arr = np.asarray(values, dtype=float)
    return float(np.nanmean(arr) if how == "mean" else np.nanmedian(arr))
