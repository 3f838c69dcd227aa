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

from typing import Callable

from .audit_stats import IQR_FACTOR
from .cleaning_base import (CleaningError, CleaningLog, LogEntry, Step, _rebuild,  # noqa: F401
                            _summary)
from .cleaning_steps import Impute, MergeDuplicates, Remove, RemoveOutliers, Winsorize  # noqa: F401
from .dataset import Dataset

__all__ = ["LogEntry", "CleaningLog", "Step", "Cleaner", "impute", "winsorize", "remove",
           "remove_outliers", "merge_duplicates", "step_from_dict", "steps_from_config",
           "CleaningError"]


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
                    threshold: float | None = None) -> Step:
    """Remove target outliers as the audit defines them: IQR fences, |z| > threshold (default
    3) or, with method='robust', more than threshold (default 10) robust scales from the median."""
    return RemoveOutliers(method, factor, threshold)


def merge_duplicates(level: str = "reduced_formula", how: str | None = None,
                     drop_conflicting: bool = False, tolerance: float | None = None) -> Step:
    """Keep one row per duplicate group (the first, with the group's mean/median/first/mode target).

    ``how`` defaults to mean (regression) or mode (classification). With ``drop_conflicting``,
    groups whose targets disagree (range > tolerance, default 10% of the robust target scale; or differing
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
