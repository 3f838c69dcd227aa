"""Candidate materials made from the training data by chemically sensible element substitutions.

Why substitutions: the materials a model can rank with some confidence are near the ones it was
trained on, and a chemist's first guess for a new compound is a known one with one element
swapped for a similar one (Hautier et al. 2011 learned which swaps work; here the rule is
simpler and stated): same group of the periodic table with Pauling electronegativity within
``2 max_dx`` (O <-> S, Cl <-> Br), or an element sharing a common oxidation state with
electronegativity within ``max_dx / 2`` and atomic radius within ``max_dr`` angstrom (Fe <-> Co). Where pymatgen finds a charge-balanced oxidation-state assignment for
the parent (``oxi_state_guesses``), the child must have one too; compositions already in the
data (same fractional composition) are removed.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Element, Structure

from ..data.chemistry import composition_key, composition_of

#: Elements never proposed: noble gases, and radioactive elements nobody makes materials from.
EXCLUDED = {"He", "Ne", "Ar", "Kr", "Xe", "Rn", "Tc", "Pm", "Po", "At", "Fr", "Ra"}
MAX_Z = 83  # up to Bi; actinides only when the data has them (they are substituted, not proposed)


@lru_cache(maxsize=None)
def similar_elements(symbol: str, max_dx: float = 0.5, max_dr: float = 0.15) -> tuple:
    """(element, similarity) pairs for ``symbol``, most similar first; similarity in (0, 1]."""
    try:
        a = Element(symbol)
    except ValueError:
        return ()
    xa, ra = a.X, a.atomic_radius
    out = []
    for z in range(1, MAX_Z + 1):
        b = Element.from_Z(z)
        if b.symbol == symbol or b.symbol in EXCLUDED:
            continue
        xb, rb = b.X, b.atomic_radius
        if not (np.isfinite(xa) and np.isfinite(xb)) or ra is None or rb is None:
            continue
        dx, dr = abs(xa - xb), abs(float(ra) - float(rb))
        same_group = a.group == b.group
        shared_ox = bool(set(a.common_oxidation_states) & set(b.common_oxidation_states))
        if (same_group and dx <= 2 * max_dx) or (shared_ox and dx <= max_dx / 2 and dr <= max_dr):
            sim = 1.0 - 0.25 * dx / max_dx - 0.5 * min(dr / (3 * max_dr), 1.0)
            out.append((b.symbol, round(float(max(sim, 0.01)), 3)))
    return tuple(sorted(out, key=lambda t: -t[1]))


def charge_balanced(comp: Composition) -> bool | None:
    """True/False when pymatgen can judge the composition; None for alloys and compositions too
    large to enumerate (no rule applied then)."""
    return _balanced(comp.reduced_formula) if _small_integer(comp) else None


def _small_integer(comp: Composition) -> bool:
    amounts = list(comp.reduced_composition.get_el_amt_dict().values())
    return (all(abs(a - round(a)) < 1e-6 for a in amounts) and sum(amounts) <= 30
            and len(amounts) <= 5)


@lru_cache(maxsize=20000)
def _balanced(reduced: str) -> bool:
    try:
        return bool(Composition(reduced).oxi_state_guesses(max_sites=-20))
    except Exception:  # noqa: BLE001 - pymatgen gives up on some inputs: treat as unbalanced
        return False


def _swap(item, old: str, new: str):
    if isinstance(item, Structure):
        s = item.copy()
        s.replace_species({old: new})
        return s
    comp = composition_of(item)
    amounts = {(new if el.symbol == old else el.symbol): amt for el, amt in comp.items()}
    return Composition(amounts).formula.replace(" ", "")


def substitutions(inputs, *, max_candidates: int = 2000, seed: int = 0, max_dx: float = 0.5,
                  max_dr: float = 0.15, known=None, new_elements: bool = False) -> pd.DataFrame:
    """New candidates from ``inputs`` (formulas or Structures), one element swapped each.

    ``new_elements`` False (the default) swaps only to elements that occur somewhere in
    ``inputs``: a model has learned nothing about an element it never saw, and the domain
    check would flag every such candidate.

    Columns: input (formula string or Structure), formula, parent, swap, similarity,
    charge_balanced. Rows are drawn in a seeded random order over all possible swaps (every
    parent has the same chance) and checked until ``max_candidates`` pass."""
    known_keys = {_key(x) for x in (inputs if known is None else known)}
    known_keys.discard(None)
    comps = []
    for item in inputs:
        try:
            comps.append(composition_of(item))
        except Exception:  # noqa: BLE001 - an unreadable parent proposes nothing
            comps.append(None)
    seen_elements = {el.symbol for c in comps if c is not None for el in c.elements}
    proposals = []
    for p, comp in enumerate(comps):
        if comp is None:
            continue
        here = {el.symbol for el in comp.elements}
        for el in sorted(here):
            for new, sim in similar_elements(el, max_dx, max_dr):
                if new not in here and (new_elements or new in seen_elements):
                    proposals.append((p, el, new, sim))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(proposals))
    rows, seen = [], set()
    parents = list(inputs)
    for i in order:
        p, old, new, sim = proposals[i]
        parent = parents[p]
        child = _swap(parent, old, new)
        key = _key(child)
        if key is None or key in known_keys or key in seen:
            continue
        parent_comp, child_comp = composition_of(parent), composition_of(child)
        pb = charge_balanced(parent_comp)
        cb = charge_balanced(child_comp) if pb else None
        if pb and not cb:
            continue
        seen.add(key)
        rows.append({"input": child, "formula": child_comp.formula.replace(" ", ""),
                     "parent": parent_comp.formula.replace(" ", ""), "swap": f"{old}->{new}",
                     "similarity": sim, "charge_balanced": cb})
        if len(rows) >= max_candidates:
            break
    return pd.DataFrame(rows, columns=["input", "formula", "parent", "swap", "similarity",
                                       "charge_balanced"])


def _key(item):
    try:
        return composition_key(item)
    except Exception:  # noqa: BLE001 - unreadable: never "known"
        return None
