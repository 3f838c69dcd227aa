"""What every cleaning step shares: the log it writes and how it rebuilds a Dataset, so that no
step ever edits the caller's data and every change can be reported row by row."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .audit_stats import _json_safe
from .dataset import Dataset
from .errors import AssayError


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
    extra = None if dataset.extra is None else dataset.extra.loc[inputs.index].copy()
    return Dataset(dataset.name, inputs.copy(), target.copy(), dataset.input_type,
                   dataset.task_type, dataset.target_name, dataset.unit, task, source, extra)


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
