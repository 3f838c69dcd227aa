"""The shared representation behind every vectorised composition featuriser.

Compositions are parsed once into padded (rows x max-elements) arrays of atomic numbers
and amounts, in the order pymatgen's ``element_composition`` yields them (the order matminer
iterates in, which matters for its tie-breaking and float summation). Element property
tables are (119 x n_props) arrays indexed by Z (row 0 is the zero-valued pad), filled by
calling matminer's own data classes once per element, so values are the reference values.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from pymatgen.core import Composition, Element

N_Z = 119  # row 0 = pad, rows 1..118 = elements


def as_composition(x):
    """Accept a Composition, a formula string, a Structure or anything with ``.composition``."""
    if isinstance(x, (np.ndarray, list, tuple)) and len(x) == 1:  # matminer passes rows as 1-tuples
        x = x[0]
    if isinstance(x, Composition):
        return x
    if isinstance(x, str):
        return Composition(x)
    comp = getattr(x, "composition", None)
    if comp is not None:
        return comp
    return Composition(x)


def _element_items(comp) -> list[tuple[int, float]]:
    """(Z, amount) as ``comp.element_composition.items()`` gives them, skipping its rebuild when
    every key is already a plain, non-isotope Element (then the order and values are the same)."""
    items = list(comp.items())
    if all(type(el) is Element and el.symbol in _STANDARD for el, _ in items):
        return [(el.Z, float(a)) for el, a in items]
    return [(el.Z, float(a)) for el, a in comp.element_composition.items()]


def _standard_symbols() -> frozenset:
    return frozenset(Element.from_Z(z).symbol for z in range(1, 119))


_STANDARD = _standard_symbols()


@dataclass
class CompositionMatrix:
    """Compositions as padded arrays; rows that cannot be parsed carry an error string."""

    z: np.ndarray  # (n, m) int, 0 = pad
    amt: np.ndarray  # (n, m) float, 0 for pad
    errors: dict[int, str] = field(default_factory=dict)
    compositions: list = field(default_factory=list)  # the parsed objects (None where failed)

    @property
    def n(self) -> int:
        return self.z.shape[0]

    @property
    def valid(self) -> np.ndarray:
        return self.z > 0

    @property
    def n_el(self) -> np.ndarray:
        return self.valid.sum(1)

    @property
    def total(self) -> np.ndarray:
        return self.amt.sum(1)

    @classmethod
    def from_compositions(cls, entries) -> "CompositionMatrix":
        rows, errors, comps = [], {}, []
        for i, x in enumerate(entries):
            try:
                comp = as_composition(x)
                items = _element_items(comp)
                if not items:
                    raise ValueError("empty composition")
                for zz, a in items:
                    if not 1 <= zz <= 118:
                        raise ValueError(f"element with Z={zz} is not a real element")
                    if not a > 0:
                        raise ValueError(f"non-positive amount {a}")
                rows.append(items)
                comps.append(comp)
            except Exception as exc:  # pymatgen raises many kinds for bad formulas
                errors[i] = f"cannot parse composition {x!r}: {type(exc).__name__}: {exc}"
                rows.append([])
                comps.append(None)
        m = max([len(r) for r in rows] + [1])
        z = np.zeros((len(rows), m), dtype=np.int64)
        amt = np.zeros((len(rows), m))
        for i, r in enumerate(rows):
            for j, (zz, a) in enumerate(r):
                z[i, j], amt[i, j] = zz, a
        return cls(z, amt, errors, comps)

    def rows(self, sl: slice) -> "CompositionMatrix":
        return CompositionMatrix(self.z[sl], self.amt[sl], {}, self.compositions[sl])


@dataclass(frozen=True)
class ElementTable:
    """Per-element property values; ``err[z]`` is why element z cannot be looked up (or "")."""

    values: np.ndarray  # (N_Z, k)
    err: tuple  # length N_Z
    names: tuple


def build_table(getter, names) -> ElementTable:
    """Evaluate ``getter(Element, name)`` for all 118 elements, recording exceptions per element."""
    values = np.zeros((N_Z, len(names)))
    err = [""] * N_Z
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for zz in range(1, N_Z):
            el = Element.from_Z(zz)
            try:
                row = []
                for name in names:
                    v = getter(el, name)
                    row.append(np.nan if v is None else float(v))
                values[zz] = row
            except Exception as exc:  # the reference raises for elements missing from a table
                err[zz] = f"{type(exc).__name__}: {exc}"
                values[zz] = np.nan
    return ElementTable(values, tuple(err), tuple(names))


@lru_cache(maxsize=None)
def data_source(name: str, impute_nan: bool):
    """One instance per matminer data class (their constructors parse files)."""
    from matminer.utils import data as d

    cls = {"magpie": d.MagpieData, "deml": d.DemlData, "pymatgen": d.PymatgenData,
           "matscholar_el": d.MatscholarElementData, "megnet_el": d.MEGNetElementData}[name]
    return cls(impute_nan=impute_nan)


@lru_cache(maxsize=None)
def source_table(name: str, impute_nan: bool, props: tuple) -> ElementTable:
    src = data_source(name, impute_nan)
    return build_table(src.get_elemental_property, props)


def row_errors(cm: CompositionMatrix, table: ElementTable) -> dict[int, str]:
    """Rows containing an element the table cannot provide, with the reference's error."""
    bad_z = np.array([bool(e) for e in table.err])
    out = dict(cm.errors)
    hit = (bad_z[cm.z] & cm.valid).any(1)
    for i in np.flatnonzero(hit):
        if i in out:
            continue
        zz = next(z for z in cm.z[i] if z and bad_z[z])
        out[int(i)] = table.err[zz]
    return out


def pooled_stats(vals: np.ndarray, w: np.ndarray, valid: np.ndarray, stats) -> np.ndarray:
    """matminer PropertyStats, vectorised: vals (n, m, k) -> (n, k * len(stats)), property-major.

    Semantics copied from matminer.featurizers.utils.stats.PropertyStats with the element
    amounts as weights: min/max/range are NaN if any value is NaN, mean/avg_dev propagate NaN,
    std_dev is 0 for a single element (even a NaN one), mode is the minimum value among
    elements whose weight is np.isclose to the largest weight.
    """
    n, m, k = vals.shape
    v = np.where(valid[..., None], vals, 0.0)
    S = w.sum(1)
    out = np.empty((n, k, len(stats)))
    nan_any = np.isnan(v).any(1)
    mean = None
    need_mean = {"mean", "avg_dev", "std_dev"} & set(stats)
    if need_mean:
        mean = np.einsum("nm,nmk->nk", w, v) / S[:, None]
    vmin = vmax = None
    for j, stat in enumerate(stats):
        if stat in ("minimum", "range"):
            if vmin is None:
                vmin = np.where(valid[..., None], v, np.inf).min(1)
        if stat in ("maximum", "range"):
            if vmax is None:
                vmax = np.where(valid[..., None], v, -np.inf).max(1)
        if stat == "minimum":
            r = vmin.copy()
        elif stat == "maximum":
            r = vmax.copy()
        elif stat == "range":
            r = vmax - vmin
        elif stat == "mean":
            r = mean
        elif stat == "avg_dev":
            r = np.einsum("nm,nmk->nk", w, np.abs(v - mean[:, None, :])) / S[:, None]
        elif stat == "std_dev":
            wsq = (w ** 2).sum(1)
            with np.errstate(invalid="ignore", divide="ignore"):
                beta = S / (S ** 2 - wsq) if m > 1 else np.zeros_like(S)
                dev = np.einsum("nm,nmk->nk", w, (v - mean[:, None, :]) ** 2)
                r = np.sqrt(beta[:, None] * dev)
            single = valid.sum(1) == 1
            r[single] = 0.0
            out[:, :, j] = r
            continue
        elif stat == "mode":
            wmax = np.where(valid, w, -np.inf).max(1)
            sel = valid & (np.abs(w - wmax[:, None]) <= 1e-8 + 1e-5 * np.abs(wmax)[:, None])
            r = np.where(sel[..., None], v, np.inf).min(1)
        else:
            raise ValueError(f"statistic {stat!r} is not supported")
        if stat in ("minimum", "maximum", "range"):
            r[nan_any] = np.nan
        out[:, :, j] = r
    return out.reshape(n, k * len(stats))


FRACTION_STATS = ("mean", "std", "min", "max")


def fraction_pool(vals: np.ndarray, amt: np.ndarray, valid: np.ndarray, stats=FRACTION_STATS) -> np.ndarray:
    """Pool per-element vectors by composition: vals (n, m, k) -> (n, k * len(stats)), stat-major.

    Weights are atomic fractions; ``std`` is the population (fraction-weighted) standard
    deviation, the convention of CBFV/elementembeddings, not matminer's bias-corrected one.
    NaN rows (no valid element) stay NaN.
    """
    n, m, k = vals.shape
    v = np.where(valid[..., None], vals, 0.0)
    frac = np.where(valid, amt, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = frac / frac.sum(1, keepdims=True)
    out = []
    mean = None
    for stat in stats:
        if stat in ("mean", "std") and mean is None:
            mean = np.einsum("nm,nmk->nk", frac, v)
        if stat == "mean":
            out.append(mean)
        elif stat == "std":
            var = np.einsum("nm,nmk->nk", frac, (v - mean[:, None, :]) ** 2)
            out.append(np.sqrt(np.maximum(var, 0.0)))
        elif stat == "min":
            out.append(np.where(valid[..., None], v, np.inf).min(1))
        elif stat == "max":
            out.append(np.where(valid[..., None], v, -np.inf).max(1))
        else:
            raise ValueError(f"statistic {stat!r} is not supported (use {FRACTION_STATS})")
    res = np.concatenate(out, axis=1)
    res[~valid.any(1)] = np.nan
    return res
