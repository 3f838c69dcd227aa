"""A look at the data before any model sees it: what the target looks like, what is missing,
what is duplicated (and whether duplicates disagree) and how much chemistry the test folds share
with training. Problems found here explain scores later, so they are written down, not fixed;
fixing is cleaning.py's job, which reuses the definitions below so both agree on the numbers."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .audit_groups import (_describe_groups, _group, _keys, _structure_duplicates,  # noqa: F401
                           chemistry_overlap, duplicate_groups)
from .audit_plots import plots as _plots
from .audit_stats import (IQR_FACTOR, ROBUST_THRESHOLD, Z_THRESHOLD, _json_safe,  # noqa: F401
                          conflict_tolerance, describe, iqr_outliers, is_conflicting,
                          robust_outliers, robust_scale, zscore_outliers)
from .chemistry import DUPLICATE_LEVELS, composition_of
from .dataset import Dataset
from .findings import AuditFinding, key_findings  # noqa: F401 (part of the audit's API)

__all__ = ["AuditReport", "audit", "describe", "iqr_outliers", "zscore_outliers",
           "robust_outliers", "robust_scale", "duplicate_groups", "is_conflicting",
           "conflict_tolerance", "chemistry_overlap", "AuditFinding", "key_findings"]

SKEW_NOTE = 1.0
MAX_SYMMETRY = 2000


@dataclass
class AuditReport:
    """Everything ``audit`` found; ``to_dict`` gives plain JSON types for reports and files."""

    name: str
    n_rows: int
    input_type: str
    task_type: str
    target_name: str
    unit: str
    target: dict
    input_size: dict
    missing: dict
    outliers: dict | None
    duplicates: dict
    overlap: dict | None
    plots: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return _json_safe(asdict(self))

    def summary(self) -> list[str]:
        """A few plain lines for a terminal or the top of a report."""
        lines = [f"{self.name}: {self.n_rows} rows, {self.input_type} -> {self.target_name} "
                 f"({self.task_type})"]
        if self.task_type == "classification":
            lines.append(f"classes {self.target['class_counts']}, minority share "
                         f"{self.target['minority_share']:.1%}")
        elif self.target.get("count"):
            t = self.target
            lines.append(f"target mean {t['mean']:.4g}, std {t['std']:.4g}, range "
                         f"[{t['min']:.4g}, {t['max']:.4g}], skew {t['skew']:.2f}")
        if self.outliers:
            lines.append(f"outliers: {self.outliers['iqr']['count']} by IQR, "
                         f"{self.outliers['zscore']['count']} by |z|>{Z_THRESHOLD:g}")
        for level, d in self.duplicates.items():
            if level != "conflict_tolerance" and d.get("n_groups"):
                lines.append(f"duplicates by {level}: {d['n_groups']} groups, {d['n_extra_rows']} "
                             f"extra rows, {d['n_conflicting']} with conflicting targets")
        if self.overlap:
            lines.append(f"test rows whose chemical system is seen in training: "
                         f"{self.overlap['mean_chemsys_seen_share']:.1%} (mean over folds)")
        lines += self.notes
        return lines


# ---------------------------------------------------------------------------------- audit
def audit(dataset: Dataset, folds=None, out_dir=None, *, conflict_tol: float | None = None,
          max_symmetry: int = MAX_SYMMETRY, symprec: float = 0.1, seed: int = 0) -> AuditReport:
    """Audit ``dataset``; ``folds`` is a list of (train_idx, test_idx) positional arrays.

    ``conflict_tol``: duplicate targets further apart than this disagree (default 10% of the
    robust target scale, see audit_stats.robust_scale). ``max_symmetry`` caps how many structures get a space group (slow); above it,
    groups are sampled and the report says so. Plots are written when ``out_dir`` is given.
    """
    notes: list[str] = []
    n = len(dataset)
    ids = list(dataset.ids)

    comps = []
    for item in dataset.inputs:
        try:
            comps.append(composition_of(item))
        except ValueError:
            comps.append(None)
    n_bad_inputs = sum(c is None for c in comps)

    # missing values
    missing_inputs = sum(1 for item in dataset.inputs
                         if item is None or (isinstance(item, float) and math.isnan(item))
                         or (isinstance(item, str) and not item.strip()))
    y = np.asarray(pd.to_numeric(dataset.target, errors="coerce"), dtype=float)
    missing = {dataset.input_type: int(missing_inputs),
               dataset.target_name: int((~np.isfinite(y)).sum())}
    if n_bad_inputs > missing_inputs:
        notes.append(f"{n_bad_inputs - missing_inputs} inputs could not be read as a composition "
                     f"and are left out of size statistics and duplicate checks.")

    # target
    if dataset.is_classification:
        labels = [int(v) for v in y[np.isfinite(y)]]
        counts = Counter(labels)
        total = sum(counts.values())
        target = {"count": total, "class_counts": {str(k): counts[k] for k in sorted(counts)},
                  "class_shares": {str(k): counts[k] / total for k in sorted(counts)},
                  "minority_share": min(counts.values()) / total if total else float("nan"),
                  "imbalance_ratio": (max(counts.values()) / min(counts.values())
                                      if counts else float("nan"))}
        if counts and target["minority_share"] < 0.2:
            notes.append(f"Classes are imbalanced (minority share {target['minority_share']:.1%})"
                         f"; accuracy alone will flatter a model, prefer balanced accuracy or "
                         f"ROC AUC.")
        outliers = None
    else:
        target = describe(y)
        finite = y[np.isfinite(y)]
        positive = finite[finite > 0]
        target["robust_scale"] = robust_scale(finite)
        target["min_positive"] = float(positive.min()) if len(positive) else float("nan")
        skew = target.get("skew", float("nan"))
        if np.isfinite(skew) and abs(skew) > SKEW_NOTE:
            side = ("right (a long tail of large values)" if skew > 0
                    else "left (a long tail of small values)")
            fix = ("a log transform (log1p if there are zeros)" if skew > 0 and target["min"] >= 0
                   else "a transform such as Yeo-Johnson")
            notes.append(f"The target is skewed to the {side}, skew {skew:.2f}: consider {fix}, "
                         f"and expect errors to be dominated by the tail.")
        iqr_mask, lo, hi = iqr_outliers(y)
        z_mask = zscore_outliers(y)
        far_mask = robust_outliers(y)
        outliers = {
            "iqr": {"factor": IQR_FACTOR, "lower_fence": lo, "upper_fence": hi,
                    "count": int(iqr_mask.sum()),
                    "ids": [ids[i] for i in np.flatnonzero(iqr_mask)]},
            "zscore": {"threshold": Z_THRESHOLD, "count": int(z_mask.sum()),
                       "ids": [ids[i] for i in np.flatnonzero(z_mask)]},
            "extreme": {"threshold": ROBUST_THRESHOLD, "count": int(far_mask.sum()),
                        "ids": [ids[i] for i in np.flatnonzero(far_mask)],
                        "targets": [float(v) for v in y[far_mask]]},
        }

    # input sizes
    sizes = {"n_elements": [len(c.elements) if c is not None else np.nan for c in comps],
             "atoms_per_formula_unit": [c.reduced_composition.num_atoms if c is not None
                                        else np.nan for c in comps]}
    if dataset.input_type == "structure":
        sizes["n_sites"] = [len(s) for s in dataset.inputs]
        sizes["volume_per_atom"] = [s.volume / len(s) for s in dataset.inputs]
    input_size = {k: describe(v) for k, v in sizes.items()}

    # duplicates
    tol = conflict_tolerance(dataset, conflict_tol)
    keys = {level: _keys(dataset, level) for level in DUPLICATE_LEVELS}
    duplicates: dict = {"conflict_tolerance": tol if not dataset.is_classification else None}
    for level in DUPLICATE_LEVELS:
        duplicates[level] = _describe_groups(dataset, _group(keys[level]), keys[level], tol)
    if dataset.input_type == "structure":
        duplicates["structure"] = _structure_duplicates(
            dataset, keys["reduced_formula"], tol, symprec, max_symmetry, seed, notes)
    worst = max((lvl for lvl in duplicates if lvl != "conflict_tolerance"),
                key=lambda lvl: duplicates[lvl]["n_conflicting"])
    if duplicates[worst]["n_conflicting"]:
        notes.append(f"{duplicates[worst]['n_conflicting']} groups of duplicates by {worst} have "
                     f"conflicting targets; no model can fit both values.")

    overlap = None
    if folds is not None:
        esets = [frozenset(el.symbol for el in c.elements) if c is not None else None
                 for c in comps]
        overlap = chemistry_overlap(dataset, folds, esets, keys["reduced_formula"])

    plots = _plots(dataset, sizes, Path(out_dir)) if out_dir is not None else []
    return AuditReport(name=dataset.name, n_rows=n, input_type=dataset.input_type,
                       task_type=dataset.task_type, target_name=dataset.target_name,
                       unit=dataset.unit, target=target, input_size=input_size, missing=missing,
                       outliers=outliers, duplicates=duplicates, overlap=overlap, plots=plots,
                       notes=notes)

