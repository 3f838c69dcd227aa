"""Cleaning steps that leave the input alone and say exactly what they did.

Every step takes a Dataset and returns a *new* Dataset plus a log entry (which rows, how many,
target summary before and after), so a report can state what was removed or changed and by how
much. Outliers and duplicates are defined as in audit.py, so the audit's counts are what cleaning
acts on. Removing rows from a Matbench task drops ``task`` (its official folds no longer apply);
the name is kept in ``source["matbench_task"]``.

Steps can be built in code (``winsorize(0.01, 0.99)``) or from config-style dicts
(``{"step": "winsorize", "lower": 0.01, "upper": 0.99}``) and chained with ``Cleaner``.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from .audit import (IQR_FACTOR, Z_THRESHOLD, _json_safe, conflict_tolerance, duplicate_groups,
                    iqr_outliers, is_conflicting, zscore_outliers)
from .chemistry import DUPLICATE_LEVELS
from .dataset import Dataset
from .errors import AssayError

__all__ = ["LogEntry", "CleaningLog", "Step", "Cleaner", "impute", "winsorize", "remove",
           "remove_outliers", "merge_duplicates", "step_from_dict", "steps_from_config"]


class CleaningError(AssayError):
    """A cleaning step cannot be applied to this dataset as asked."""


@dataclass
class LogEntry:
    """What one step did: ``ids`` are all rows it touched (removed or changed)."""

    step: str
    params: dict
    ids: list
    count: int
    removed: list
    changed: list
    before: dict
    after: dict
    details: list = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def describe(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items() if not callable(v))
        parts = []
        if self.removed:
            parts.append(f"removed {_rows(len(self.removed))}")
        if self.changed:
            parts.append(f"changed the target of {_rows(len(self.changed))}")
        what = " and ".join(parts) or "changed nothing"
        return (f"{self.step}({args}): {what}; rows {self.before['n_rows']} -> "
                f"{self.after['n_rows']}")


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


@dataclass
class CleaningLog:
    entries: list[LogEntry] = field(default_factory=list)

    @property
    def removed_ids(self) -> list:
        return [i for e in self.entries for i in e.removed]

    @property
    def changed_ids(self) -> list:
        return list(dict.fromkeys(i for e in self.entries for i in e.changed))

    def summary(self) -> list[str]:
        return [e.describe() for e in self.entries]

    def to_dict(self) -> dict:
        entries = []
        for e in self.entries:
            d = asdict(e)
            d["params"] = {k: (getattr(v, "__name__", "predicate") if callable(v) else v)
                           for k, v in e.params.items()}
            entries.append(d)
        return _json_safe({"entries": entries, "removed_ids": self.removed_ids,
                           "changed_ids": self.changed_ids})


# ---------------------------------------------------------------------------------- helpers
def _summary(dataset_or_target, task_type: str) -> dict:
    t = dataset_or_target
    if task_type == "classification":
        counts = Counter(int(v) for v in t if not pd.isna(v))
        return {"n_rows": len(t), "class_counts": {str(k): counts[k] for k in sorted(counts)}}
    y = np.asarray(t, dtype=float)
    ok = y[np.isfinite(y)]
    stats = {"n_rows": len(y), "n_missing": int(len(y) - len(ok))}
    if len(ok):
        stats.update(mean=float(ok.mean()), std=float(ok.std(ddof=1)) if len(ok) > 1 else 0.0,
                     min=float(ok.min()), median=float(np.median(ok)), max=float(ok.max()))
    return stats


def _rebuild(dataset: Dataset, inputs: pd.Series, target: pd.Series, step: str) -> Dataset:
    """A new Dataset with private copies; official folds no longer hold once rows go."""
    source = dict(dataset.source)
    source["cleaning"] = list(source.get("cleaning", [])) + [step]
    task = dataset.task
    if task is not None and len(target) != len(dataset.target):
        source["matbench_task"] = task.name
        task = None
    return Dataset(dataset.name, inputs.copy(), target.copy(), dataset.input_type,
                   dataset.task_type, dataset.target_name, dataset.unit, task, source)


def _require_regression(dataset: Dataset, step: str):
    if dataset.is_classification:
        raise CleaningError(f"{step} works on a numeric target; {dataset.name} is a "
                            f"classification task (labels cannot be averaged or capped).")


class Step:
    """A cleaning step: ``step(dataset) -> (new Dataset, LogEntry)``."""

    name = "step"

    def params(self) -> dict:
        return {}

    def __call__(self, dataset: Dataset) -> tuple[Dataset, LogEntry]:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{self.name}({args})"

    def _entry(self, before: Dataset, after: Dataset, removed, changed, details=(), **info):
        removed, changed = list(removed), list(changed)
        ids = list(dict.fromkeys(removed + changed))
        return LogEntry(self.name, self.params(), ids, len(ids), removed, changed,
                        _summary(before.target, before.task_type),
                        _summary(after.target, after.task_type), list(details), info)

    def _drop(self, dataset: Dataset, mask: np.ndarray, reason: str):
        """Remove rows where ``mask`` is True; details list each removed row and why."""
        keep = ~mask
        new = _rebuild(dataset, dataset.inputs[keep], dataset.target[keep], repr(self))
        ids = list(dataset.ids[mask])
        targets = dataset.target[mask].tolist()
        details = [{"id": i, "target": t, "reason": reason} for i, t in zip(ids, targets)]
        return new, self._entry(dataset, new, ids, [], details)


# ------------------------------------------------------------------------------------ steps
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
    name = "remove_outliers"

    def __init__(self, method: str = "iqr", factor: float = IQR_FACTOR,
                 threshold: float = Z_THRESHOLD):
        if method not in ("iqr", "zscore"):
            raise ValueError(f"remove_outliers method must be 'iqr' or 'zscore', not {method!r}")
        self.method, self.factor, self.threshold = method, float(factor), float(threshold)

    def params(self):
        if self.method == "iqr":
            return {"method": "iqr", "factor": self.factor}
        return {"method": "zscore", "threshold": self.threshold}

    def __call__(self, dataset):
        _require_regression(dataset, "remove_outliers")
        y = dataset.target.to_numpy(dtype=float)
        if self.method == "iqr":
            mask, lo, hi = iqr_outliers(y, self.factor)
            reason = f"target outside the IQR fences [{lo:.4g}, {hi:.4g}]"
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


# ----------------------------------------------------------------------- public constructors
def impute(strategy: str = "mean") -> Step:
    """Fill missing (NaN) regression targets with the mean or median of the others."""
    return Impute(strategy)


def winsorize(lower: float = 0.01, upper: float = 0.99) -> Step:
    """Cap the target at its ``lower`` and ``upper`` quantiles; rows are kept."""
    return Winsorize(lower, upper)


def remove(rows: "list | Callable", reason: str) -> Step:
    """Remove rows by id, or where ``rows(input, target)`` is True; ``reason`` goes in the log."""
    return Remove(rows, reason)


def remove_outliers(method: str = "iqr", factor: float = IQR_FACTOR,
                    threshold: float = Z_THRESHOLD) -> Step:
    """Remove target outliers as the audit defines them (IQR fences or |z| > threshold)."""
    return RemoveOutliers(method, factor, threshold)


def merge_duplicates(level: str = "reduced_formula", how: str | None = None,
                     drop_conflicting: bool = False, tolerance: float | None = None) -> Step:
    """Keep one row per duplicate group (the first, with the group's mean/median/first/mode target).

    ``how`` defaults to mean (regression) or mode (classification). With ``drop_conflicting``,
    groups whose targets disagree (range > tolerance, default 10% of target std; or differing
    labels) are removed entirely instead of merged.
    """
    return MergeDuplicates(level, how, drop_conflicting, tolerance)


STEPS = {"impute": impute, "winsorize": winsorize, "remove": remove,
         "remove_outliers": remove_outliers, "merge_duplicates": merge_duplicates}


def step_from_dict(spec: dict) -> Step:
    """``{"step": "winsorize", "lower": 0.01}`` -> the step; ``remove`` takes ids and reason."""
    if not isinstance(spec, dict) or "step" not in spec:
        raise ValueError(f"a cleaning step must be a dict with a 'step' key, got {spec!r}")
    kwargs = {k: v for k, v in spec.items() if k != "step"}
    name = spec["step"]
    if name not in STEPS:
        raise ValueError(f"unknown cleaning step {name!r}; choose one of {sorted(STEPS)}")
    if name == "remove" and "ids" in kwargs:
        kwargs["rows"] = kwargs.pop("ids")
    try:
        return STEPS[name](**kwargs)
    except TypeError as exc:
        raise ValueError(f"bad parameters for cleaning step {name!r}: {exc}") from None


def steps_from_config(config: list[dict]) -> list[Step]:
    return [step_from_dict(s) for s in config]


class Cleaner:
    """Applies steps in order; each sees the previous step's output, never the caller's data."""

    def __init__(self, steps: list | None = None):
        self.steps = [s if isinstance(s, Step) else step_from_dict(s) for s in (steps or [])]

    @classmethod
    def from_config(cls, config: list[dict]) -> "Cleaner":
        return cls(steps_from_config(config))

    def apply(self, dataset: Dataset) -> tuple[Dataset, CleaningLog]:
        log = CleaningLog()
        current = dataset
        for step in self.steps:
            current, entry = step(current)
            log.entries.append(entry)
            if len(current) == 0:
                raise CleaningError(f"cleaning removed every row of {dataset.name}: "
                                    + "; ".join(log.summary()))
        if current is dataset:  # no steps: still hand back a copy, so callers may edit it
            current = _rebuild(dataset, dataset.inputs, dataset.target, "no-op")
            current.source["cleaning"] = list(dataset.source.get("cleaning", []))
        return current, log
