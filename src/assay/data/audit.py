"""A look at the data before any model sees it: what the target looks like, what is missing,
what is duplicated (and whether duplicates disagree) and how much chemistry the test folds share
with training. Problems found here explain scores later, so they are written down, not fixed;
fixing is cleaning.py's job, which reuses the definitions below so both agree on the numbers."""
from __future__ import annotations

import math
import random
import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .chemistry import DUPLICATE_LEVELS, composition_of, duplicate_key
from .dataset import Dataset

__all__ = ["AuditReport", "audit", "describe", "iqr_outliers", "zscore_outliers",
           "duplicate_groups", "is_conflicting", "conflict_tolerance", "chemistry_overlap"]

IQR_FACTOR = 1.5
Z_THRESHOLD = 3.0
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


def conflict_tolerance(dataset: Dataset, tolerance: float | None = None) -> float:
    """How far duplicate targets may spread before they 'disagree': default 10% of target std."""
    if tolerance is not None:
        return float(tolerance)
    y = np.asarray(dataset.target, dtype=float)
    y = y[np.isfinite(y)]
    return 0.1 * float(y.std(ddof=1)) if len(y) > 1 else 0.0


def is_conflicting(targets, task_type: str, tolerance: float) -> bool:
    t = [v for v in targets if not (isinstance(v, float) and math.isnan(v))]
    if task_type == "classification":
        return len(set(t)) > 1
    return bool(t) and bool((max(t) - min(t)) > tolerance)


# ----------------------------------------------------------------------------- duplicates
def _keys(dataset: Dataset, level: str) -> list:
    out = []
    for item in dataset.inputs:
        try:
            out.append(duplicate_key(item, level))
        except ValueError:  # an unparsable formula is nobody's duplicate
            out.append(None)
    return out


def duplicate_groups(dataset: Dataset, level: str, keys: list | None = None) -> list[list[int]]:
    """Positional row groups (size > 1) sharing a key at ``level``, in order of first appearance."""
    if level not in DUPLICATE_LEVELS:
        raise ValueError(f"unknown duplicate level {level!r}; choose one of {DUPLICATE_LEVELS}")
    keys = _keys(dataset, level) if keys is None else keys
    return _group(keys)


def _group(keys) -> list[list[int]]:
    groups: dict = {}
    for i, k in enumerate(keys):
        if k is not None:
            groups.setdefault(k, []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def _key_text(key) -> str:
    if isinstance(key, tuple) and key and isinstance(key[0], tuple):
        return " ".join(f"{el}:{amt:g}" for el, amt in key)
    if isinstance(key, tuple):
        return " ".join(str(k) for k in key)
    return str(key)


def _describe_groups(dataset: Dataset, groups, keys, tol: float) -> dict:
    ids = list(dataset.ids)
    y = dataset.target.tolist()
    out = []
    for g in groups:
        t = [y[i] for i in g]
        entry = {"key": _key_text(keys[g[0]]), "ids": [ids[i] for i in g], "targets": t,
                 "conflicting": is_conflicting(t, dataset.task_type, tol)}
        if dataset.task_type == "regression":
            finite = [v for v in t if np.isfinite(v)]
            entry["range"] = (max(finite) - min(finite)) if finite else None
        out.append(entry)
    return {"n_groups": len(out), "n_rows": sum(len(g) for g in groups),
            "n_extra_rows": sum(len(g) - 1 for g in groups),
            "n_conflicting": sum(e["conflicting"] for e in out), "groups": out}


def _space_group(structure, symprec: float) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # spglib's deprecation chatter, once per call
            symbol, number = structure.get_space_group_info(symprec=symprec)
        return f"{symbol} ({number})"
    except Exception:  # spglib gives up on some cells; such a row is just not compared
        return None


def _structure_duplicates(dataset, reduced_keys, tol, symprec, max_symmetry, seed, notes) -> dict:
    """Same reduced formula and space group. Only rows sharing a reduced formula can match, so
    symmetry is computed for those alone; above ``max_symmetry`` of them, whole groups are
    sampled."""
    candidates = _group(reduced_keys)
    n_candidates = sum(len(g) for g in candidates)
    chosen, sampled = candidates, False
    if n_candidates > max_symmetry:
        order = list(range(len(candidates)))
        random.Random(seed).shuffle(order)
        chosen, total = [], 0
        for k in order:
            if total + len(candidates[k]) > max_symmetry:
                continue
            chosen.append(candidates[k])
            total += len(candidates[k])
        chosen.sort(key=lambda g: g[0])
        sampled = True
    keys: list = [None] * len(dataset)
    inputs = list(dataset.inputs)
    for g in chosen:
        for i in g:
            sg = _space_group(inputs[i], symprec)
            keys[i] = None if sg is None else (reduced_keys[i], sg)
    result = _describe_groups(dataset, _group(keys), keys, tol)
    n_checked = sum(len(g) for g in chosen)
    result.update({"symprec": symprec, "n_candidates": n_candidates, "n_checked": n_checked,
                   "sampled": sampled})
    if sampled:
        notes.append(f"Space groups were computed for {n_checked} of the {n_candidates} "
                     f"structures that share a reduced formula (whole groups sampled at random, "
                     f"limit {max_symmetry}); structure duplicates may be undercounted.")
    return result


# -------------------------------------------------------------------------------- overlap
def chemistry_overlap(dataset: Dataset, folds, element_sets: list | None = None,
                      reduced: list | None = None) -> dict:
    """Per fold: share of test rows whose chemical system, every element, and reduced formula
    occur among training rows. High shares mean the test set asks about familiar chemistry."""
    if element_sets is None:
        element_sets = [_elements(item) for item in dataset.inputs]
    if reduced is None:
        reduced = _keys(dataset, "reduced_formula")
    per_fold = []
    for k, (train, test) in enumerate(folds):
        train, test = np.asarray(train), np.asarray(test)
        systems = {element_sets[i] for i in train if element_sets[i] is not None}
        elements = set().union(*systems) if systems else set()
        formulas = {reduced[i] for i in train if reduced[i] is not None}
        usable = [i for i in test if element_sets[i] is not None]
        n = len(usable)
        share = (lambda hits: hits / n if n else float("nan"))
        per_fold.append({
            "fold": k, "n_train": int(len(train)), "n_test": int(len(test)),
            "chemsys_seen_share": share(sum(element_sets[i] in systems for i in usable)),
            "elements_seen_share": share(sum(element_sets[i] <= elements for i in usable)),
            "formula_seen_share": share(sum(reduced[i] in formulas for i in usable)),
        })

    def mean(key):
        vals = [f[key] for f in per_fold if not math.isnan(f[key])]
        return float(np.mean(vals)) if vals else float("nan")
    return {"folds": per_fold, "mean_chemsys_seen_share": mean("chemsys_seen_share"),
            "mean_elements_seen_share": mean("elements_seen_share"),
            "mean_formula_seen_share": mean("formula_seen_share")}


def _elements(item):
    try:
        return frozenset(el.symbol for el in composition_of(item).elements)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------- plots
def _plots(dataset: Dataset, sizes: dict, out_dir: Path) -> list[str]:
    """PNG files via the Agg canvas directly, so pyplot's global state is never touched."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out_dir.mkdir(parents=True, exist_ok=True)
    label = dataset.target_name + (f" ({dataset.unit})" if dataset.unit else "")
    y = np.asarray(dataset.target, dtype=float)
    y = y[np.isfinite(y)]
    files = []

    def save(fig, name):
        FigureCanvasAgg(fig)
        fig.tight_layout()
        path = out_dir / name
        fig.savefig(path, dpi=110)
        files.append(str(path))

    fig = Figure(figsize=(5, 3.5))
    ax = fig.add_subplot()
    if dataset.is_classification:
        counts = Counter(int(v) for v in y)
        ax.bar([str(c) for c in sorted(counts)], [counts[c] for c in sorted(counts)])
        ax.set_xlabel(label)
    else:
        ax.hist(y, bins=min(50, max(10, int(np.sqrt(len(y))))))
        ax.set_xlabel(label)
    ax.set_ylabel("rows")
    ax.set_title(f"{dataset.name}: target")
    save(fig, "target_hist.png")

    if not dataset.is_classification:
        fig = Figure(figsize=(5, 2.5))
        ax = fig.add_subplot()
        try:
            ax.boxplot(y, orientation="horizontal", whis=IQR_FACTOR)
        except TypeError:  # matplotlib < 3.10
            ax.boxplot(y, vert=False, whis=IQR_FACTOR)
        ax.set_xlabel(label)
        ax.set_yticks([])
        ax.set_title(f"{dataset.name}: target (whiskers at 1.5 IQR)")
        save(fig, "target_box.png")

    names = [k for k, v in sizes.items() if v]
    fig = Figure(figsize=(4 * len(names), 3.2))
    for j, key in enumerate(names):
        ax = fig.add_subplot(1, len(names), j + 1)
        v = np.asarray(sizes[key], dtype=float)
        v = v[np.isfinite(v)]
        if key == "n_elements":
            edges = np.arange(v.min(), v.max() + 2) - 0.5 if len(v) else 10
            ax.hist(v, bins=edges)
        else:
            ax.hist(v, bins=40)
        ax.set_xlabel(key.replace("_", " "))
        ax.set_ylabel("rows")
    save(fig, "input_sizes.png")
    return files


# ---------------------------------------------------------------------------------- audit
def audit(dataset: Dataset, folds=None, out_dir=None, *, conflict_tol: float | None = None,
          max_symmetry: int = MAX_SYMMETRY, symprec: float = 0.1, seed: int = 0) -> AuditReport:
    """Audit ``dataset``; ``folds`` is a list of (train_idx, test_idx) positional arrays.

    ``conflict_tol``: duplicate targets further apart than this disagree (default 10% of the
    target std). ``max_symmetry`` caps how many structures get a space group (slow); above it,
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
        outliers = {
            "iqr": {"factor": IQR_FACTOR, "lower_fence": lo, "upper_fence": hi,
                    "count": int(iqr_mask.sum()),
                    "ids": [ids[i] for i in np.flatnonzero(iqr_mask)]},
            "zscore": {"threshold": Z_THRESHOLD, "count": int(z_mask.sum()),
                       "ids": [ids[i] for i in np.flatnonzero(z_mask)]},
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
