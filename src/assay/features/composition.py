"""Vectorised drop-in versions of matminer's composition featurisers.

Each class keeps matminer's contract (``featurize``, ``feature_labels``, ``citations``,
``implementors``; it *is* a matminer ``BaseFeaturizer``) and gives the same numbers, but
``featurize_many`` parses the compositions once and computes every row with array
operations instead of a Python loop per row and per element.
"""
from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
from matminer.featurizers.base import BaseFeaturizer

from ._matrix import (N_Z, CompositionMatrix, ElementTable, as_composition, build_table,
                      data_source, pooled_stats, row_errors, source_table)

__all__ = ["VectorFeaturizer", "ElementProperty", "Stoichiometry", "ValenceOrbital", "IonProperty",
           "ElementFraction", "BandCenter", "RandomElementProperty", "MultipleVectorFeaturizer",
           "CompositionMatrix"]

CHUNK = 2048  # rows per block: bounds the (rows x elements x properties) temporaries


def many_result(name: str, X, errors: dict, ignore_errors: bool, return_errors: bool):
    """What matminer's featurize_many returns: the table, raising on the first bad row unless
    told to ignore errors, optionally with a trailing error-message column."""
    if errors and not ignore_errors:
        i = min(errors)
        raise ValueError(f"{name} cannot featurise row {i}: {errors[i]}")
    if return_errors:
        return [list(r) + [errors.get(i, "")] for i, r in enumerate(X)]
    return X


class VectorFeaturizer(BaseFeaturizer):
    """Base: subclasses implement ``_compute(cm) -> (array, {row: reason})``."""

    def _compute(self, cm: CompositionMatrix) -> tuple[np.ndarray, dict[int, str]]:
        raise NotImplementedError

    @property
    def name(self) -> str:
        return type(self).__name__

    def params(self) -> dict:
        """What identifies the output (used as the cache key)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(self).items()
                if not k.startswith("_") and isinstance(v, (int, float, str, bool, tuple, list, type(None)))}

    def featurize_matrix(self, cm: CompositionMatrix) -> tuple[np.ndarray, dict[int, str]]:
        """Features for every row; failed rows are all-NaN and listed with their reason."""
        width = len(self.feature_labels())
        out = np.full((cm.n, width), np.nan)
        errors: dict[int, str] = {}
        for start in range(0, cm.n, CHUNK):
            sl = slice(start, min(start + CHUNK, cm.n))
            sub = cm.rows(sl)
            sub.errors = {i - start: e for i, e in cm.errors.items() if sl.start <= i < sl.stop}
            with np.errstate(divide="ignore", invalid="ignore"):  # failed rows have zero totals
                X, err = self._compute(sub)
            out[sl] = X
            errors.update({i + start: e for i, e in err.items()})
        if errors:
            out[sorted(errors)] = np.nan
        return out, errors

    def featurize_many_with_errors(self, entries) -> tuple[np.ndarray, dict[int, str]]:
        return self.featurize_matrix(CompositionMatrix.from_compositions(list(entries)))

    def featurize_many(self, entries, ignore_errors=False, return_errors=False, pbar=False):
        """Array version of matminer's featurize_many (raises on the first bad row unless told not to)."""
        X, errors = self.featurize_many_with_errors(entries)
        return many_result(self.name, X, errors, ignore_errors, return_errors)

    def featurize(self, comp):
        X, errors = self.featurize_many_with_errors([comp])
        if errors:
            raise ValueError(errors[0])
        return X[0].tolist()


class ElementProperty(VectorFeaturizer):
    """matminer ElementProperty (statistics of element properties weighted by amount)."""

    STATS6 = ("minimum", "maximum", "range", "mean", "avg_dev", "mode")
    STATS5 = ("minimum", "maximum", "range", "mean", "std_dev")

    def __init__(self, data_source: str, features, stats, impute_nan: bool = True):
        if not isinstance(data_source, str):
            raise TypeError("pass the data source by name: magpie, deml, pymatgen, matscholar_el, megnet_el")
        self.data_source = data_source
        self.features = tuple(features)
        self.stats = tuple(stats)
        self.impute_nan = impute_nan

    @classmethod
    def from_preset(cls, preset_name: str, impute_nan: bool = True) -> "ElementProperty":
        from matminer.featurizers.composition import ElementProperty as Ref

        ref = Ref.from_preset(preset_name, impute_nan=impute_nan)
        src = {"MagpieData": "magpie", "DemlData": "deml", "PymatgenData": "pymatgen",
               "MatscholarElementData": "matscholar_el", "MEGNetElementData": "megnet_el"}
        name = src.get(type(ref.data_source).__name__)
        if name is None:
            raise ValueError(f"preset {preset_name!r} is not supported by the vectorised ElementProperty")
        obj = cls(name, ref.features, ref.stats, impute_nan=impute_nan)
        obj.preset = preset_name
        return obj

    def _table(self) -> ElementTable:
        return source_table(self.data_source, self.impute_nan, self.features)

    def _compute(self, cm):
        table = self._table()
        errors = row_errors(cm, table)
        X = pooled_stats(table.values[cm.z], cm.amt, cm.valid, self.stats)
        return X, errors

    def _source_class(self) -> str:
        return type(data_source(self.data_source, self.impute_nan)).__name__

    def feature_labels(self):
        src = self._source_class()
        return [f"{src} {stat} {attr}" for attr in self.features for stat in self.stats]

    def citations(self):
        from matminer.featurizers.composition import ElementProperty as Ref

        return Ref(data_source(self.data_source, self.impute_nan), [], [], impute_nan=False).citations()

    def implementors(self):
        return ["assay (vectorised)", "Jiming Chen", "Logan Ward", "Anubhav Jain", "Alex Dunn"]


class RandomElementProperty(ElementProperty):
    """Control (Chuang & Keiser): seeded random per-element vectors pooled like real properties.

    A model that does as well on these as on Magpie is learning element identity, not chemistry.
    Default width equals Magpie's (22 properties x 6 statistics).
    """

    def __init__(self, n_properties: int = 22, stats=ElementProperty.STATS6, seed: int = 0):
        self.n_properties = n_properties
        self.stats = tuple(stats)
        self.seed = seed
        self.impute_nan = False
        self.data_source = "random"
        self.features = tuple(f"random {i}" for i in range(1, n_properties + 1))

    def _table(self):
        return _random_table(self.n_properties, self.seed)

    def _source_class(self):
        return "RandomElementData"

    def citations(self):
        return ["@article{chuang2020adversarial, title={A Critical Examination of Compound Stability "
                "Predictions from Machine-Learned Formation Energies} / Chuang & Keiser, "
                "'Adversarial controls for scientific machine learning', ACS Chem. Biol. 13 (2018) 2819}"]

    def implementors(self):
        return ["assay"]


@lru_cache(maxsize=None)
def _random_table(k: int, seed: int) -> ElementTable:
    vals = np.zeros((N_Z, k))
    vals[1:] = np.random.default_rng(seed).standard_normal((N_Z - 1, k))
    return ElementTable(vals, ("",) * N_Z, tuple(range(k)))


class ElementFraction(VectorFeaturizer):
    """matminer ElementFraction: atomic fraction of each of the 118 elements (also the one-hot control)."""

    def _compute(self, cm):
        frac = cm.amt / cm.total[:, None]
        out = np.zeros((cm.n, N_Z))
        rows = np.repeat(np.arange(cm.n), cm.z.shape[1])
        np.add.at(out, (rows, cm.z.ravel()), np.where(cm.valid, frac, 0).ravel())
        return out[:, 1:], dict(cm.errors)

    def feature_labels(self):
        from pymatgen.core import Element

        return [Element.from_Z(i).symbol for i in range(1, N_Z)]

    def citations(self):
        return []

    def implementors(self):
        return ["assay (vectorised)", "Ashwin Aggarwal", "Logan Ward"]


class Stoichiometry(VectorFeaturizer):
    """matminer Stoichiometry: number of elements and Lp norms of the atomic fractions."""

    def __init__(self, p_list=(0, 2, 3, 5, 7, 10), num_atoms: bool = False):
        self.p_list = None if p_list is None else tuple(p_list)
        self.num_atoms = num_atoms

    def _compute(self, cm):
        cols = []
        errors = dict(cm.errors)
        if self.num_atoms:
            na = np.full(cm.n, np.nan)
            for i, c in enumerate(cm.compositions):
                if c is not None and i not in errors:
                    na[i] = c.num_atoms / c.get_integer_formula_and_factor()[1]
            cols.append(na)
        if self.p_list is not None:
            frac = cm.amt / cm.total[:, None]
            for p in self.p_list:
                if p < 0:
                    raise ValueError("p-norm not defined for p < 0")
                if p == 0:
                    cols.append(cm.n_el.astype(float))
                else:
                    cols.append(np.where(cm.valid, frac ** p, 0).sum(1) ** (1.0 / p))
        return np.column_stack(cols) if cols else np.empty((cm.n, 0)), errors

    def feature_labels(self):
        labels = ["num atoms"] if self.num_atoms else []
        return labels + ["%d-norm" % p for p in (self.p_list or ())]

    def citations(self):
        from matminer.featurizers.composition import Stoichiometry as Ref

        return Ref().citations()

    def implementors(self):
        return ["assay (vectorised)", "Jiming Chen", "Logan Ward"]


class ValenceOrbital(VectorFeaturizer):
    """matminer ValenceOrbital: mean valence electrons per shell and their fraction of the total."""

    def __init__(self, orbitals=("s", "p", "d", "f"), props=("avg", "frac"), impute_nan: bool = True):
        self.orbitals = tuple(orbitals)
        self.props = tuple(props)
        self.impute_nan = impute_nan

    def _compute(self, cm):
        names = tuple(f"N{o}Valence" for o in self.orbitals) + ("NValence",)
        table = source_table("magpie", self.impute_nan, names)
        errors = row_errors(cm, table)
        means = pooled_stats(table.values[cm.z], cm.amt, cm.valid, ("mean",))
        avg, total = means[:, :-1], means[:, -1:]
        with np.errstate(invalid="ignore", divide="ignore"):
            parts = {"avg": avg, "frac": avg / total}
        return np.hstack([parts[p] for p in self.props]), errors

    def feature_labels(self):
        return [f"{prop} {orb} valence electrons" for prop in self.props for orb in self.orbitals]

    def citations(self):
        from matminer.featurizers.composition import ValenceOrbital as Ref

        return Ref(impute_nan=False).citations()

    def implementors(self):
        return ["assay (vectorised)", "Jiming Chen", "Logan Ward"]


class BandCenter(VectorFeaturizer):
    """matminer BandCenter: geometric mean of (ionisation energy + electron affinity)/2."""

    def __init__(self, impute_nan: bool = True):
        self.impute_nan = impute_nan

    def _compute(self, cm):
        deml = build_table_cached("deml", self.impute_nan, "first_ioniz")
        mag = source_table("magpie", self.impute_nan, ("ElectronAffinity",))
        base = 0.5 * (deml.values[:, 0] / 1000 + mag.values[:, 0]) / 96.48
        err = tuple(a or b for a, b in zip(deml.err, mag.err))
        errors = row_errors(cm, ElementTable(base[:, None], err, ("base",)))
        expo = cm.amt / cm.total[:, None]
        with np.errstate(invalid="ignore"):
            terms = np.where(cm.valid, base[cm.z] ** expo, 1.0)
        return np.prod(terms, axis=1)[:, None], errors

    def feature_labels(self):
        return ["band center"]

    def citations(self):
        from matminer.featurizers.composition import BandCenter as Ref

        return Ref.citations(None)

    def implementors(self):
        return ["assay (vectorised)", "Anubhav Jain"]


@lru_cache(maxsize=None)
def build_table_cached(source: str, impute_nan: bool, prop: str) -> ElementTable:
    return source_table(source, impute_nan, (prop,))


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
    from pymatgen.core import Element

    return tuple(Element.from_Z(z).common_oxidation_states)


@lru_cache(maxsize=None)
def _pmg_oxi(z: int) -> tuple:
    """The states pymatgen's oxi_state_guesses uses when matminer's override is empty."""
    from pymatgen.core import Element

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
    from pymatgen.core import Element

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


class MultipleVectorFeaturizer(VectorFeaturizer):
    """Several vectorised featurisers side by side, sharing one parsed CompositionMatrix."""

    def __init__(self, featurizers):
        self.featurizers = list(featurizers)

    def _compute(self, cm):
        parts, errors = [], dict(cm.errors)
        for f in self.featurizers:
            X, err = f._compute(cm)
            parts.append(X)
            for i, e in err.items():
                errors.setdefault(i, f"{f.name}: {e}")
        return np.hstack(parts), errors

    def params(self):
        return {"featurizers": [[f.name, f.params()] for f in self.featurizers]}

    def feature_labels(self):
        return [lab for f in self.featurizers for lab in f.feature_labels()]

    def citations(self):
        return list(dict.fromkeys(c for f in self.featurizers for c in f.citations()))

    def implementors(self):
        return list(dict.fromkeys(c for f in self.featurizers for c in f.implementors()))
