"""matminer's IonProperty, vectorised, with an exact charge-balance search that does not enumerate.

pymatgen's ``oxi_state_guesses`` (what matminer calls) builds every combination of oxidation
states, which explodes for large formulas; the searches here answer the same yes/no question
(can a neutral compound form?) over reachable sums instead.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from pymatgen.core import Element

from ._matrix import row_errors, source_table
from .vectorised import VectorFeaturizer

__all__ = ["IonProperty"]


class IonProperty(VectorFeaturizer):
    """matminer IonProperty: can a neutral ionic compound form, and the max/mean ionic character.

    The charge-balance test is re-implemented exactly but without enumerating every
    combination: ``fast=False`` (pymatgen ``oxi_state_guesses``) becomes a reachable-sum search
    over integers, ``fast=True`` a meet-in-the-middle search over weighted sums.
    """

    def __init__(self, impute_nan: bool = True, fast: bool = False):
        self.impute_nan = impute_nan
        self.fast = fast

    def _compute(self, cm):
        table = source_table("pymatgen", self.impute_nan, ("X",))
        errors = row_errors(cm, table)
        x = table.values[cm.z, 0]  # (n, m)
        valid = cm.valid
        frac = cm.amt / cm.total[:, None]
        ic = 1.0 - np.exp(-0.25 * (x[:, :, None] - x[:, None, :]) ** 2)  # (n, m, m)
        m = cm.z.shape[1]
        iu = np.triu_indices(m, 1)
        pair_ok = valid[:, iu[0]] & valid[:, iu[1]]
        icp = ic[:, iu[0], iu[1]]
        with np.errstate(invalid="ignore"):
            maxic = np.where(pair_ok, icp, -np.inf).max(1) if m > 1 else np.zeros(cm.n)
            avgic = np.where(pair_ok, frac[:, iu[0]] * frac[:, iu[1]] * icp, 0).sum(1)
        nanpair = (np.isnan(icp) & pair_ok).any(1) if m > 1 else np.zeros(cm.n, bool)
        maxic = np.where(nanpair, np.nan, maxic)
        single = cm.n_el < 2
        maxic[single], avgic[single] = 0.0, 0.0
        possible = np.zeros(cm.n)
        for i in range(cm.n):
            if i in errors:
                continue
            if single[i]:
                possible[i] = 1.0
                continue
            try:
                possible[i] = float(self._possible(cm.compositions[i], cm.z[i][valid[i]], cm.amt[i][valid[i]]))
            except Exception as exc:  # pymatgen refuses non-integer compositions when fast=False
                errors[i] = f"{type(exc).__name__}: {exc}"
        return np.column_stack([possible, maxic, avgic]), errors

    def _possible(self, comp, zs, amts) -> bool:
        from matminer.featurizers.utils.oxidation import has_oxidation_states

        if comp is not None and has_oxidation_states(comp):
            charges, fractions = zip(*((s.oxi_state, f) for s, f in comp.items()))
            return bool(np.isclose(np.dot(charges, fractions), 0))
        ox = [_common_oxi(int(z)) for z in zs]
        if self.fast:
            return _weighted_zero_sum(ox, [float(a) for a in amts])
        return _integer_balance(comp, tuple(int(z) for z in zs))

    def feature_labels(self):
        return ["compound possible", "max ionic char", "avg ionic char"]

    def citations(self):
        from matminer.featurizers.composition import IonProperty as Ref

        return Ref.citations(None)

    def implementors(self):
        return ["assay (vectorised)", "Jiming Chen", "Logan Ward"]


@lru_cache(maxsize=None)
def _common_oxi(z: int) -> tuple:
    return tuple(Element.from_Z(z).common_oxidation_states)


@lru_cache(maxsize=None)
def _pmg_oxi(z: int) -> tuple:
    """The states pymatgen's oxi_state_guesses uses when matminer's override is empty."""
    el = Element.from_Z(z)
    return tuple(el.icsd_oxidation_states or el.common_oxidation_states)


def _weighted_zero_sum(ox: list[tuple], w: list[float]) -> bool:
    """Is some choice of one state per element with |sum(state*w)| <= 1e-8 (np.isclose to 0)?"""
    if any(len(o) == 0 for o in ox):
        return False
    half = len(ox) // 2

    def sums(part_ox, part_w):
        s = np.zeros(1)
        for o, wt in zip(part_ox, part_w):
            s = (s[:, None] + np.asarray(o, float)[None, :] * wt).ravel()
            s = np.unique(s)
        return s

    a = sums(ox[:half], w[:half])
    b = np.sort(sums(ox[half:], w[half:]))
    pos = np.searchsorted(b, -a)
    for off in (-1, 0):
        j = np.clip(pos + off, 0, len(b) - 1)
        if np.any(np.abs(a + b[j]) <= 1e-8):
            return True
    return False


def _integer_balance(comp, zs: tuple) -> bool:
    """``len(comp.oxi_state_guesses(override)) > 0`` without building every combination."""
    amounts = dict(comp.get_el_amt_dict())
    if not all(a == int(a) for a in comp.values()):
        raise ValueError("Charge balance analysis requires integer values in Composition!")
    reach = {0}
    for sym, a in amounts.items():
        z = Element(sym).Z
        oxids = _common_oxi(z) or _pmg_oxi(z)
        n = int(a)
        if not oxids:
            return False
        el_sums = _multiset_sums(tuple(oxids), n)
        reach = {r + s for r in reach for s in el_sums}
    return 0 in reach


@lru_cache(maxsize=4096)
def _multiset_sums(oxids: tuple, n: int) -> frozenset:
    sums = {0}
    for _ in range(n):
        sums = {s + o for s in sums for o in oxids}
    return frozenset(sums)
