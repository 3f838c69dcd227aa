"""Raw target cells turned into numbers or class codes, each bad cell with its reason.

Task type rule (when ``task_type`` is None): the target is *classification* when its non-missing
values are bools or the words true/false/yes/no (any case; 0/1 may be mixed in), or are exactly
the two values 0 and 1 (written as integers, ``0.0``/``1.0`` or text); anything else, including
a column of only 1s, is *regression*. Text labels ("metal"/"insulator") need
``task_type='classification'``; they are coded 0, 1, ... in sorted order and the names kept.

Regression values beyond float32's range (about 3.4e38) are refused: several models hold targets
as float32 (there such a value becomes inf), and squaring one overflows float64 statistics.
"""
from __future__ import annotations

import math
from numbers import Number

import numpy as np

from .readers import is_missing

TRUE_WORDS = {"true", "yes"}
FALSE_WORDS = {"false", "no"}
TASK_TYPES = ("regression", "classification")
MAX_ABS_TARGET = float(np.finfo(np.float32).max)

__all__ = ["infer_task_type", "code_targets", "TASK_TYPES", "MAX_ABS_TARGET"]


def _token(value):
    """('missing'|'bool'|'num'|'text'|'inf', value, as written) for one raw target cell."""
    if isinstance(value, (bool, np.bool_)):
        return "bool", bool(value), str(bool(value))
    if is_missing(value):
        return "missing", None, None
    if isinstance(value, Number):
        try:
            x = float(value)
        except OverflowError:  # an int too large for a float
            return "inf", value, str(value)
        except (TypeError, ValueError):  # complex and friends
            return "text", str(value), str(value)
        if math.isnan(x):
            return "missing", None, None
        return ("inf", value, str(value)) if math.isinf(x) else ("num", x, str(value))
    text = str(value).strip()
    low = text.lower()
    if low in TRUE_WORDS or low in FALSE_WORDS:
        return "bool", low in TRUE_WORDS, text
    try:
        x = float(text)
    except (ValueError, OverflowError):
        return "text", text, text
    if math.isnan(x):
        return "missing", None, None
    return ("inf", text, text) if math.isinf(x) else ("num", x, text)


def infer_task_type(values) -> str:
    """'classification' for bools or true/false words (even if only one of them occurs, so a
    one-class column is refused rather than regressed), or exactly {0, 1}; else 'regression'."""
    seen, any_bool = set(), False
    for kind, v, _ in map(_token, values):
        if kind == "missing":
            continue
        if kind == "bool":
            seen.add(int(v))
            any_bool = True
        elif kind == "num" and float(v).is_integer():
            seen.add(int(v))
        else:
            return "regression"
    return "classification" if seen == {0, 1} or (any_bool and seen <= {0, 1}) else "regression"


def code_targets(values, task_type: str):
    """(coded targets, {position: reason}, {label name: code} or None).

    Class names are kept for text labels and for true/false words or bools (as first written),
    so predictions can print 'metal' or 'True' rather than 1; plain 0/1 labels have none."""
    values = list(values)
    tokens = [_token(v) for v in values]
    bad: dict[int, str] = {}
    out: list = [None] * len(tokens)
    what = "target" if task_type == "regression" else "class label"
    for i, (kind, v, _) in enumerate(tokens):
        if kind == "missing":
            bad[i] = f"{what} is missing (empty or NaN)"
        elif kind == "inf":
            bad[i] = f"{what} {v!r} is not finite (or too large for a float)"
    if task_type == "regression":
        for i, (kind, v, written) in enumerate(tokens):
            if kind == "bool" and isinstance(values[i], str):  # "TRUE" among numbers: a typo?
                bad[i] = (f"target {written!r} is a true/false word, not a number (for class "
                          f"labels pass task_type='classification')")
            elif kind == "num" and abs(v) > MAX_ABS_TARGET:
                bad[i] = (f"target {written} is too large to compute with (|value| above "
                          f"{MAX_ABS_TARGET:.3g}); check its units or the column")
            elif kind in ("num", "bool"):
                out[i] = float(v)
            elif kind == "text":
                bad[i] = f"target {v!r} is not a number"
        return out, bad, None
    labels, bool_names = {}, {}
    for i, (kind, v, written) in enumerate(tokens):
        if kind == "bool":
            labels[i] = int(v)
            bool_names.setdefault(int(v), written)
        elif kind == "num":
            if float(v).is_integer():
                labels[i] = int(v)
            else:
                bad[i] = f"class label {v:g} is not a whole number"
        elif kind == "text":
            labels[i] = v
    mapping = None
    if any(isinstance(v, str) for v in labels.values()):
        names = sorted({str(v) for v in labels.values()})
        mapping = {name: code for code, name in enumerate(names)}
        labels = {i: mapping[str(v)] for i, v in labels.items()}
    elif bool_names and all(kind != "num" for kind, _, _ in tokens):
        mapping = {bool_names[code]: code for code in sorted(bool_names)}  # as first written
    for i, v in labels.items():
        out[i] = v
    return out, bad, mapping
