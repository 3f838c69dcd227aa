"""Per-element aggregates of a dataset and of a model's errors, laid out as a periodic table.

For every element: in how many materials it occurs, the mean target of those materials and the
model's mean absolute out-of-fold error on them. An element whose materials are rare and badly
predicted is where the model knows least.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Element

#: display rows: periods 1-7, then a gap, lanthanides (row 8) and actinides (row 9)
LANTHANIDES = range(57, 72)
ACTINIDES = range(89, 104)


def position(symbol: str) -> tuple[int, int]:
    """(row, column), 0-based, of an element in the 18-column table; La-Lu and Ac-Lr on two
    rows of their own below (columns 2-16)."""
    el = Element(symbol)
    if el.Z in LANTHANIDES:
        return 8, 2 + el.Z - 57
    if el.Z in ACTINIDES:
        return 9, 2 + el.Z - 89
    return el.row - 1, el.group - 1


def elements_of(item) -> list[str]:
    """Element symbols of a formula, a Composition or a structure (its composition)."""
    comp = getattr(item, "composition", None)
    if comp is None:
        comp = item if isinstance(item, Composition) else Composition(str(item))
    return [str(el) for el in comp.elements if isinstance(el, Element)]


def element_table(inputs, y, abs_error=None) -> pd.DataFrame:
    """One row per element present: count, fraction of materials, mean target, mean |error|.

    ``inputs`` are formulas, Compositions or structures; rows whose input cannot be parsed are
    skipped (counted in ``attrs["unparsed"]``). ``abs_error`` may hold NaN (rows not predicted).
    """
    y = np.asarray(y, dtype=float)
    err = np.full(len(y), np.nan) if abs_error is None else np.asarray(abs_error, dtype=float)
    rows, bad = [], 0
    for i, item in enumerate(inputs):
        try:
            els = elements_of(item)
        except (ValueError, KeyError, TypeError):
            bad += 1
            continue
        rows.extend((el, i) for el in set(els))
    long = pd.DataFrame(rows, columns=["element", "row"])
    long["y"] = y[long["row"].to_numpy()] if len(long) else []
    long["err"] = err[long["row"].to_numpy()] if len(long) else []
    g = long.groupby("element")
    out = pd.DataFrame({"count": g.size(), "mean_target": g["y"].mean(), "mean_abs_error": g["err"].mean()})
    out["fraction"] = out["count"] / max(len(y) - bad, 1)
    out = out.reset_index().sort_values("count", ascending=False, kind="stable").reset_index(drop=True)
    pos = [position(e) for e in out["element"]]
    out["table_row"] = [p[0] for p in pos]
    out["table_col"] = [p[1] for p in pos]
    out.attrs["unparsed"] = bad
    return out


def grid(table: pd.DataFrame, column: str) -> np.ndarray:
    """A (10, 18) array of ``column`` at each element's place (NaN where absent)."""
    g = np.full((10, 18), np.nan)
    for r, c, v in zip(table["table_row"], table["table_col"], table[column]):
        g[r, c] = v
    return g
