"""featurize(): inputs and a feature specification in, one row-aligned FeatureSet out.

``features`` may be a preset name, ``"matminer:<Name>"``, a featuriser instance (any matminer
``BaseFeaturizer``; assay's own subclass :class:`~assay.features.base.Featurizer`), a callable
``inputs -> DataFrame``, a DataFrame of precomputed columns joined by id, or a list of these.
Every featuriser runs through the same batch hook and is cached on its own (when its identity
can be pinned down); callables and precomputed tables are not cached.
"""
from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from joblib import parallel_config
from joblib.parallel import get_active_backend
from matminer.featurizers.base import BaseFeaturizer

from ..ui import progress_bar
from ._matrix import CompositionMatrix
from .adaptor import MatminerAdaptor
from .base import Featurizer, call_batch, describe_instance
from .cache import FeatureCache, hash_inputs
from .presets import _DROP, default_preset, preset_featurizers

__all__ = ["FeatureSet", "featurize", "describe_features"]

INPUT_TYPES = ("composition", "structure")


@dataclass
class FeatureSet:
    """A feature table aligned with the input rows, plus the rows that could not be featurised.

    ``notes`` lists single values that are NaN for a stated reason (e.g. no oxidation-state
    guess for the Ewald energy) while the rest of the row is fine.
    """

    X: pd.DataFrame
    preset: str
    failed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "id", "reason"]))
    citations: list[str] = field(default_factory=list)
    seconds: float = 0.0
    from_cache: bool = False
    notes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "id", "feature", "reason"]))

    @property
    def labels(self) -> list[str]:
        return list(self.X.columns)


def describe_features(features) -> str:
    """A readable, stable text for a ``features=`` value (for configs, records and reports)."""
    if isinstance(features, str):
        return features
    if isinstance(features, (list, tuple)):
        return " + ".join(describe_features(f) for f in features)
    if isinstance(features, MatminerAdaptor):
        return features.name
    if isinstance(features, BaseFeaturizer):
        return describe_instance(features)
    if isinstance(features, pd.DataFrame):
        return f"precomputed table ({features.shape[1]} columns)"
    if callable(features):
        return f"callable {getattr(features, '__module__', '?')}.{getattr(features, '__qualname__', type(features).__name__)}"
    return repr(features)


# --- the inputs ------------------------------------------------------------------------------
class _Inputs:
    """The inputs of one featurize() call, parsed to compositions lazily and at most once."""

    def __init__(self, series: pd.Series, input_type: str):
        self.series = series
        self.values = list(series.values)
        self.input_type = input_type
        self._cm = None

    @property
    def matrix(self) -> CompositionMatrix:
        if self._cm is None:
            self._cm = CompositionMatrix.from_compositions(self.values)
        return self._cm

    def items_for(self, fz: Featurizer):
        """What ``fz``'s batch hook gets: parsed compositions, or the inputs as given."""
        if fz.input_kind == "composition":
            return self.matrix
        if fz.input_kind == "structure" and self.input_type != "structure":
            raise ValueError(f"{describe_features(fz)} needs structures (input_type='structure'), "
                             f"got {self.input_type!r}")
        return self.values


# --- the parts of a feature specification ------------------------------------------------------
class _FromCallable:
    """A user function ``inputs (Series) -> DataFrame``: rows aligned with the inputs, named columns."""

    def __init__(self, fn):
        self.fn = fn
        self.name = describe_features(fn)

    def compute(self, inp: _Inputs, ids) -> pd.DataFrame:
        out = self.fn(inp.series.copy())
        if not isinstance(out, pd.DataFrame):
            raise TypeError(f"{self.name} returned {type(out).__name__}, not a pandas DataFrame")
        if len(out) != len(inp.values):
            raise ValueError(f"{self.name} returned {len(out)} rows for {len(inp.values)} inputs")
        index = inp.series.index
        if not out.index.equals(index):
            if out.index.is_unique and index.is_unique and set(out.index) == set(index):
                out = out.reindex(index)
            elif not out.index.equals(pd.RangeIndex(len(out))):
                raise ValueError(f"{self.name} returned rows whose index is neither the inputs' nor 0..n-1")
        return out


class _Precomputed:
    """Feature columns computed elsewhere, joined to the inputs by id (extra ids are ignored)."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.name = describe_features(frame)

    def compute(self, inp: _Inputs, ids) -> pd.DataFrame:
        if not self.frame.index.is_unique:
            dup = self.frame.index[self.frame.index.duplicated()].unique().tolist()[:5]
            raise ValueError(f"precomputed features list some ids twice: {dup}")
        want = pd.Index(ids)
        missing = want[~want.isin(self.frame.index)].tolist()
        if missing:
            more = f" (and {len(missing) - 1} more, e.g. {missing[1:5]})" if len(missing) > 1 else ""
            raise ValueError(f"precomputed features have no row for id {missing[0]!r}{more}")
        return self.frame.loc[want]


def _table_part(part, inp: _Inputs, ids) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(X, failed rows) of a callable or precomputed part; an all-NaN row counts as failed."""
    out = part.compute(inp, ids)
    try:
        X = pd.DataFrame(np.asarray(out.to_numpy(dtype=float)), columns=[str(c) for c in out.columns])
    except (TypeError, ValueError) as exc:
        bad = [str(c) for c in out.columns if not pd.api.types.is_numeric_dtype(out[c])]
        raise ValueError(f"{part.name}: feature columns must be numeric; not numeric: {bad}") from exc
    empty = np.flatnonzero(X.isna().all(axis=1).to_numpy()) if X.shape[1] else []
    failed = pd.DataFrame([(int(r), f"{part.name} has no value for this row", "") for r in empty],
                          columns=["row", "reason", "feature"])
    return X, failed


def _resolve(spec, input_type: str, parts: list, drop: list) -> None:
    if isinstance(spec, str):
        if spec == "auto":
            spec = default_preset(input_type)
        if spec.startswith("matminer:"):
            parts.append(MatminerAdaptor(spec))
        else:
            parts += preset_featurizers(spec, input_type)
            drop += _DROP.get(spec, ())
    elif isinstance(spec, Featurizer):
        parts.append(spec)
    elif isinstance(spec, BaseFeaturizer):
        parts.append(MatminerAdaptor(spec))
    elif isinstance(spec, pd.DataFrame):
        parts.append(_Precomputed(spec))
    elif isinstance(spec, (list, tuple)):
        if not spec:
            raise ValueError("features is an empty list")
        for s in spec:
            _resolve(s, input_type, parts, drop)
    elif callable(spec):
        parts.append(_FromCallable(spec))
    else:
        raise TypeError(f"features must be a preset name, 'matminer:<Name>', a featuriser, a callable, a "
                        f"DataFrame or a list of these; got {type(spec).__name__}")


def _dedupe(parts: list) -> list:
    """A featuriser named twice (two presets sharing Magpie) is computed, and tabled, once."""
    seen, out = set(), []
    for p in parts:
        key = id(p)
        if isinstance(p, Featurizer):
            params = p.cache_params()
            if params is not None:
                key = (p.cache_name(), json.dumps(params, sort_keys=True, default=str))
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


# --- computing ---------------------------------------------------------------------------------
def _capped_workers(threads):
    """Loky workers whose OpenMP/MKL/OpenBLAS pools are ``threads`` wide from the start (the
    variables are set before the worker imports torch or numpy). Without it, loky sizes them to
    cores / n_jobs: 8 threads per worker on a 16-core machine, spinning against each other and
    everything else before a featuriser could lower them. Another backend (dask) is left alone."""
    if type(get_active_backend()[0]).__name__ != "LokyBackend":
        return contextlib.nullcontext()
    return parallel_config(backend="loky", inner_max_num_threads=max(1, int(threads or 1)))


def _compute_block(fz: Featurizer, inp: _Inputs, n_jobs: int, threads: int, store, input_hash):
    """One featuriser, read from the cache when its inputs and parameters were seen before."""
    items = inp.items_for(fz)

    def run():
        labels = fz.feature_labels()
        with _capped_workers(threads):
            res = call_batch(fz, items, n_jobs, threads)
        X = np.asarray(res.X, dtype=float)
        if X.shape != (len(inp.values), len(labels)) or len(res.errors) != len(inp.values):
            raise ValueError(f"{describe_features(fz)}.featurize_batch returned {X.shape} values and "
                             f"{len(res.errors)} errors for {len(inp.values)} rows x {len(labels)} labels")
        rows = [(r, why, "") for r, why in enumerate(res.errors) if why] + [(r, why, f) for r, f, why in res.notes]
        return pd.DataFrame(X, columns=labels), pd.DataFrame(rows, columns=["row", "reason", "feature"])

    params = fz.cache_params() if store is not None else None
    if params is not None:
        return store.get_or_compute(inp.values, fz.cache_name(), params, run, input_hash=input_hash)
    return (*run(), False)


def featurize(inputs, features="magpie", *, input_type: str = "composition", ids=None, n_jobs: int = 1,
              threads: int = 1, cache: bool = True, progress: bool = True) -> FeatureSet:
    """Featurise formula strings / Compositions, or Structures (composition blocks use their composition).

    ``n_jobs`` is worker processes, ``threads`` the compute threads each uses (torch for CHGNet):
    never more threads than asked, whatever ``n_jobs`` is. ``ids`` (default: the inputs' index)
    joins a precomputed DataFrame to the rows.
    """
    if input_type not in INPUT_TYPES:
        raise ValueError(f"input_type must be 'composition' or 'structure', not {input_type!r}")
    if not isinstance(inputs, pd.Series):
        inputs = pd.Series(list(inputs))
    ids = inputs.index if ids is None else list(ids)
    if len(ids) != len(inputs):
        raise ValueError(f"ids has {len(ids)} entries for {len(inputs)} inputs")
    t0 = time.perf_counter()
    if isinstance(features, str) and features == "auto":
        features = default_preset(input_type)
    label = describe_features(features)
    parts, drop = [], []
    _resolve(features, input_type, parts, drop)
    parts = _dedupe(parts)
    inp = _Inputs(inputs, input_type)
    store = FeatureCache() if cache else None
    h = hash_inputs(inp.values) + ":" + input_type if cache else None
    tables, fails, hits, names = [], [], [], []
    with progress_bar(progress and len(inp.values) > 1000, f"features ({label})", total=len(parts)) as tick:
        for p in parts:
            if isinstance(p, Featurizer):
                X_, failed_, hit_ = _compute_block(p, inp, n_jobs, threads, store, h)
                name = p.cache_name()
            else:
                (X_, failed_), hit_, name = _table_part(p, inp, ids), False, p.name
            tables.append(X_)
            fails.append(failed_.assign(block=name))
            hits.append(hit_)
            names.append(name)
            tick()
    X = pd.concat(tables, axis=1)
    X.index = inputs.index
    drop = [c for c in dict.fromkeys(drop) if c in X.columns]
    X = X.drop(columns=drop)
    if not X.columns.is_unique:
        dup = X.columns[X.columns.duplicated()].unique().tolist()[:5]
        raise ValueError(f"two feature sources give columns of the same name, e.g. {dup}: rename or drop one")
    return _feature_set(X, inputs, label, parts, fails, hits, drop, t0)


def _feature_set(X, inputs, label, parts, fails, hits, drop, t0) -> FeatureSet:
    allf = pd.concat(fails, ignore_index=True)
    whole = allf[allf["feature"] == ""]
    by_row: dict[int, list[str]] = {}
    for r, why, blk in zip(whole["row"], whole["reason"], whole["block"]):
        by_row.setdefault(int(r), []).append(why if len(parts) == 1 else f"{blk}: {why}")
    fdf = pd.DataFrame([(r, inputs.index[r], "; ".join(ws)) for r, ws in sorted(by_row.items())],
                       columns=["row", "id", "reason"])
    part = allf[(allf["feature"] != "") & ~allf["feature"].isin(drop)]
    ndf = pd.DataFrame({"row": part["row"].astype(int).to_numpy(),
                        "id": [inputs.index[int(r)] for r in part["row"]],
                        "feature": part["feature"].to_numpy(), "reason": part["reason"].to_numpy()})
    cites = list(dict.fromkeys(c for p in parts if isinstance(p, Featurizer) for c in p.citations()))
    return FeatureSet(X, label, fdf, cites, time.perf_counter() - t0, from_cache=bool(hits) and all(hits), notes=ndf)
