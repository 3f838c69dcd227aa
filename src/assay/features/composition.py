"""Vectorised drop-in versions of matminer's composition featurisers.

Each class keeps matminer's contract (``featurize``, ``feature_labels``, ``citations``,
``implementors``; it *is* a matminer ``BaseFeaturizer``) and gives the same numbers, but
its batch hook parses the compositions once and computes every row with array operations
instead of a Python loop per row and per element. IonProperty lives in :mod:`.ionic`, the
shared base in :mod:`.vectorised`; both are re-exported here.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from pymatgen.core import Element

from ._matrix import N_Z, CompositionMatrix, ElementTable, data_source, pooled_stats, row_errors, source_table
from .base import many_result
from .ionic import IonProperty
from .vectorised import CHUNK, MultipleVectorFeaturizer, VectorFeaturizer

__all__ = ["VectorFeaturizer", "ElementProperty", "Stoichiometry", "ValenceOrbital", "IonProperty",
           "ElementFraction", "BandCenter", "RandomElementProperty", "MultipleVectorFeaturizer",
           "CompositionMatrix", "many_result", "CHUNK"]


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
