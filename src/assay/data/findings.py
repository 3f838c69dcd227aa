"""The audit's few findings that can wreck a run, as a typed list to print before any model fits.

A single absurd value (2.9e6 where the median is 5.4) can make the primary model worse than the
dummy without any error; the audit sees it, but a number buried in audit.json helps nobody.
Each finding names the rows and the remedy: a cleaning step (see cleaning.py's STEPS, written
as the config entry that applies it) or a target transform.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

HEAVY_SKEW = 2.0         # |skew| above this dominates the errors
DECADES = 3.0            # a positive target spanning this many orders of magnitude wants a log
SHOWN_IDS = 5

__all__ = ["AuditFinding", "key_findings", "FINDING_KINDS"]

FINDING_KINDS = ("constant_target", "extreme_outliers", "orders_of_magnitude", "heavy_skew",
                 "conflicting_duplicates")


@dataclass(frozen=True)
class AuditFinding:
    """``kind`` is one of FINDING_KINDS; ``rows`` the ids concerned (empty: the whole target);
    ``remedy`` the cleaning step or target transform that handles it, or what to check."""

    kind: str
    message: str
    rows: list = field(default_factory=list)
    remedy: str = ""

    def __str__(self) -> str:
        return f"{self.message} Remedy: {self.remedy}"


def _ids_text(ids) -> str:
    shown = ", ".join(repr(i) for i in list(ids)[:SHOWN_IDS])
    more = len(ids) - SHOWN_IDS
    return shown + (f" and {more} more" if more > 0 else "")


def _num(x) -> str:
    return f"{x:.4g}"


def _log_remedy(target: dict) -> str:
    """The log10 target transform (transforms.LogTarget): fit on log10(y + shift), predict
    10**output - shift, so errors are still reported in the target's own units."""
    if target.get("min", math.nan) > 0:
        return "target transform log10: --target-transform log10 (config: target_transform = \"log10\")"
    shift = _num(target["min_positive"])
    return (f"target transform log10 of (target + {shift}): --target-transform log10 --target-shift "
            f"{shift} (config: target_transform = \"log10\", target_shift = {shift}); zeros have no "
            "logarithm")


def key_findings(report) -> list[AuditFinding]:
    """The findings of an AuditReport (or its ``to_dict()``) that call for action, most severe
    first: constant target, extreme outliers, orders of magnitude, heavy skew, conflicting
    duplicates."""
    get = (lambda k: report[k]) if isinstance(report, dict) else (lambda k: getattr(report, k))
    target, outliers, duplicates = get("target"), get("outliers"), get("duplicates") or {}
    name = get("target_name")
    out: list[AuditFinding] = []
    if get("task_type") == "classification":
        counts = target.get("class_counts") or {}
        if len(counts) == 1:
            out.append(AuditFinding(
                "constant_target", f"Every row of {name!r} is class {next(iter(counts))}.", [],
                "none: a classifier needs two classes; check the target column."))
    elif target.get("count", 0) >= 2:
        if target["max"] == target["min"]:
            out.append(AuditFinding(
                "constant_target", f"{name!r} is {_num(target['min'])} in every row.", [],
                "none: a constant target has nothing to learn; check the target column."))
            return out + _conflicts(duplicates)
        extreme = (outliers or {}).get("extreme") or {}
        if extreme.get("count"):
            far = extreme["ids"]
            vals = ", ".join(_num(v) for v in extreme.get("targets", [])[:SHOWN_IDS])
            out.append(AuditFinding(
                "extreme_outliers",
                f"{len(far)} target value(s) lie more than {extreme['threshold']:g} robust scales "
                f"from the median {_num(target['median'])} ({vals}; rows {_ids_text(far)}): one "
                f"such value can make every model worse than the dummy.", list(far),
                f"check those rows (units? typos?); --clean '{{\"step\": "
                f"\"remove_outliers\", \"method\": \"robust\", \"threshold\": "
                f"{extreme['threshold']:g}}}' removes them from the training rows (config: [[cleaning]])."))
        lo, hi = target.get("min_positive", math.nan), target["max"]
        if target["min"] >= 0 and lo > 0 and hi / lo >= 10 ** DECADES:
            out.append(AuditFinding(
                "orders_of_magnitude",
                f"{name!r} spans {math.log10(hi / lo):.1f} orders of magnitude ({_num(lo)} to "
                f"{_num(hi)}): errors on the largest values will swamp the rest.", [],
                _log_remedy(target)))
        skew = target.get("skew", math.nan)
        if math.isfinite(skew) and abs(skew) > HEAVY_SKEW:
            remedy = (_log_remedy(target) if skew > 0 and target["min"] >= 0 else
                      "cleaning step {\"step\": \"winsorize\", \"lower\": 0.01, \"upper\": 0.99}")
            out.append(AuditFinding(
                "heavy_skew", f"{name!r} is heavily skewed (skew {skew:.2f}); the tail will "
                f"dominate the errors.", [], remedy))
    return out + _conflicts(duplicates)


def _conflicts(duplicates: dict) -> list[AuditFinding]:
    levels = [lvl for lvl, d in duplicates.items()
              if isinstance(d, dict) and d.get("n_conflicting")]
    if not levels:
        return []
    level = max(levels, key=lambda lvl: duplicates[lvl]["n_conflicting"])
    d = duplicates[level]
    rows = [i for g in d["groups"] if g["conflicting"] for i in g["ids"]]
    tol = duplicates.get("conflict_tolerance")
    spread = f" by more than {_num(tol)}" if tol is not None else ""
    step_level = level if level != "structure" else "reduced_formula"
    return [AuditFinding(
        "conflicting_duplicates",
        f"{d['n_conflicting']} group(s) of duplicates by {level} have targets that differ"
        f"{spread} (rows {_ids_text(rows)}); no model can fit both values.", rows,
        f"cleaning step {{\"step\": \"merge_duplicates\", \"level\": \"{step_level}\", "
        f"\"drop_conflicting\": true}}, or check those rows.")]
