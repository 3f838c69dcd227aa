"""The one featuriser contract in assay: matminer's ``BaseFeaturizer`` plus one batch hook.

matminer computes row by row (``featurize``). Many of assay's featurisers are much faster on a
whole batch (array maths over a parsed composition table, batched CHGNet calls), so the feature
pipeline calls a single hook, ``featurize_batch(items)``. A subclass implements either
``featurize`` (then the default hook loops over it, in worker processes when ``n_jobs`` > 1,
and records why a row failed instead of raising) or ``featurize_batch`` (then ``featurize``
runs a one-item batch). ``cache_name``/``cache_params`` say what the feature cache keys on.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import re
import warnings
from importlib.metadata import PackageNotFoundError, version
from typing import NamedTuple

import numpy as np
from joblib import Parallel, delayed
from matminer.featurizers.base import BaseFeaturizer

from ._matrix import CompositionMatrix

__all__ = ["Featurizer", "NotedFeaturizer", "BatchResult", "call_batch", "many_result", "instance_identity", "describe_instance"]

SERIAL_BELOW = 8  # fewer rows than this are never worth starting worker processes for


class BatchResult(NamedTuple):
    """A batch's features: ``X`` (n, width) with NaN rows where ``errors[i]`` says why, and
    ``notes``: (row, feature, reason) for single values that are NaN for a stated reason."""

    X: np.ndarray
    errors: list
    notes: list = []


def many_result(name: str, X, errors, ignore_errors: bool, return_errors: bool):
    """What matminer's featurize_many returns: the table, raising on the first bad row unless
    told to ignore errors, optionally with a trailing error-message column."""
    errors = _as_dict(errors)
    if errors and not ignore_errors:
        i = min(errors)
        raise ValueError(f"{name} cannot featurise row {i}: {errors[i]}")
    if return_errors:
        return [list(r) + [errors.get(i, "")] for i, r in enumerate(X)]
    return X


def _as_dict(errors) -> dict[int, str]:
    if isinstance(errors, dict):
        return dict(errors)
    return {i: e for i, e in enumerate(errors) if e}


class Featurizer(BaseFeaturizer):
    """Base of every assay featuriser (and of the user's own, if they like).

    ``input_kind`` says what the pipeline hands to ``featurize_batch``: "composition" (a parsed
    :class:`CompositionMatrix`, also for structure inputs), "structure" (Structures; composition
    inputs are refused) or None (the inputs as given).
    """

    input_kind: str | None = None

    # -- matminer's contract ---------------------------------------------------------------
    def featurize(self, x):
        if type(self).featurize_batch is Featurizer.featurize_batch:
            raise NotImplementedError(f"{type(self).__name__} must implement featurize or featurize_batch")
        res = self.featurize_batch([x])
        if res.errors[0]:
            raise ValueError(res.errors[0])
        return res.X[0].tolist()

    def feature_labels(self) -> list[str]:
        raise NotImplementedError

    def citations(self) -> list[str]:
        return []

    def implementors(self) -> list[str]:
        return []

    def featurize_many(self, entries, ignore_errors=False, return_errors=False, pbar=False):
        """matminer's featurize_many through the batch hook (raises on the first bad row unless told not to)."""
        res = call_batch(self, list(entries), getattr(self, "_n_jobs", 1))
        return many_result(type(self).__name__, res.X, res.errors, ignore_errors, return_errors)

    # -- the batch hook ----------------------------------------------------------------------
    def featurize_batch(self, items, *, n_jobs: int = 1, threads: int | None = None) -> BatchResult:
        """Features of every item; a row that fails is NaN with its reason, never an exception.

        ``n_jobs`` is worker processes, ``threads`` the compute threads each may use (for
        featurisers that run torch or BLAS; the default loop has no use for it).
        """
        if type(self).featurize is Featurizer.featurize:
            raise NotImplementedError(f"{type(self).__name__} must implement featurize or featurize_batch")
        return loop_rows(self, items, n_jobs)

    def _featurize_row(self, x) -> tuple[list, dict[str, str]]:
        """One row's values and per-feature NaN reasons (what the default batch hook loops over)."""
        return self.featurize(x), {}

    # -- caching -----------------------------------------------------------------------------
    def cache_name(self) -> str:
        return f"{self.input_kind or 'input'}:{type(self).__name__}"

    def cache_params(self) -> dict | None:
        """What identifies the numbers (with ``cache_name``, the cache key); None: never cache.

        Default: the class's qualified name, ``get_params()`` and a hash of the source of the
        class and its bases, so editing the featuriser's code invalidates its cache."""
        return instance_identity(self)

    def params(self) -> dict | None:
        return self.cache_params()


def call_batch(fz: Featurizer, items, n_jobs: int = 1, threads: int | None = None) -> BatchResult:
    """``fz.featurize_batch`` with the settings its signature accepts (a user's hook may take neither)."""
    accepts = inspect.signature(fz.featurize_batch).parameters
    kw = {k: v for k, v in (("n_jobs", n_jobs), ("threads", threads)) if k in accepts}
    return fz.featurize_batch(items, **kw)


# --- the default loop ------------------------------------------------------------------------
def loop_rows(fz: Featurizer, items, n_jobs: int = 1) -> BatchResult:
    """``fz._featurize_row`` over every item, in chunks over ``n_jobs`` processes when worth it.

    A CompositionMatrix is unpacked to its compositions; rows it could not parse keep its reason."""
    pre: dict[int, str] = {}
    if isinstance(items, CompositionMatrix):
        pre, items = dict(items.errors), list(items.compositions)
    items = list(items)
    width = len(fz.feature_labels())
    if n_jobs == 1 or len(items) < SERIAL_BELOW:
        parts = [_rows(fz, items, 0, width, pre)]
    else:
        k = max(1, len(items) // (4 * abs(n_jobs) if n_jobs > 0 else 8))
        parts = Parallel(n_jobs=n_jobs)(delayed(_rows)(fz, items[i:i + k], i, width, pre)
                                        for i in range(0, len(items), k))
    rows, errors, notes = [], [], []
    for r, e, nt in parts:
        rows += r
        errors += e
        notes += nt
    return BatchResult(np.array(rows, dtype=float).reshape(len(items), width), errors, notes)


def _rows(fz, items, offset, width, pre):
    rows, errors, notes = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, x in enumerate(items):
            why = pre.get(offset + i)
            v = None
            if why is None:
                try:
                    raw, nt = fz._featurize_row(x)
                    v = [float(a) for a in raw]
                    if len(v) != width:
                        raise ValueError(f"returned {len(v)} values for {width} labels")
                    notes += [(offset + i, k, r) for k, r in nt.items()]
                except Exception as exc:  # featurisers raise anything; one bad row must not sink the batch
                    why, v = f"{type(exc).__name__}: {exc}", None
            rows.append(v if v is not None else [np.nan] * width)
            errors.append(why)
    return rows, errors, notes


# --- identity of a featuriser we did not write -----------------------------------------------
_ADDRESS = re.compile(r"<([\w.]+) object at 0x[0-9a-fA-F]+>")


def _stable(v, depth: int = 0):
    """A JSON-able, process-independent form of a parameter value; raises when there is none."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (list, tuple)):
        return [_stable(a, depth) for a in v]
    if isinstance(v, dict):
        return {str(k): _stable(a, depth) for k, a in sorted(v.items(), key=lambda kv: str(kv[0]))}
    if isinstance(v, np.ndarray):
        return {"array": v.tolist()}
    if depth > 3:
        raise TypeError("parameter nested too deeply to identify")
    if hasattr(v, "get_params"):
        return {"class": _qualname(type(v)), "params": _stable(v.get_params(deep=False), depth + 1)}
    if hasattr(v, "__dict__"):  # a data source object: its class and its settings
        return {"class": _qualname(type(v)), "vars": _stable(vars(v), depth + 1)}
    raise TypeError(f"cannot identify a parameter of type {type(v).__name__}")


def _qualname(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _package_version(module: str) -> str | None:
    try:
        return version(module.split(".")[0])
    except (PackageNotFoundError, ValueError):
        return None


def instance_identity(fz) -> dict | None:
    """Class qualname + ``get_params()`` + source hash (+ package version): the cache identity of
    a featuriser assay did not write. None (do not cache) when the source or parameters cannot be
    pinned down: a stale cache hit would be a silently wrong number."""
    try:
        src = hashlib.sha256()
        for cls in type(fz).__mro__:
            if cls in (Featurizer, BaseFeaturizer, object) or cls.__module__.startswith("sklearn."):
                continue
            src.update(inspect.getsource(cls).encode())
        params = _stable(fz.get_params(deep=False))
        blob = json.dumps(params, sort_keys=True, allow_nan=True)
    except Exception:  # no source (REPL, compiled) or parameters that cannot be identified
        return None
    return {"class": _qualname(type(fz)), "params": hashlib.sha256(blob.encode()).hexdigest(),
            "source": src.hexdigest(), "version": _package_version(type(fz).__module__)}


def describe_instance(fz) -> str:
    """A readable, process-independent text for a featuriser instance (sklearn's repr, which
    lists the parameters that differ from the defaults)."""
    try:
        text = _ADDRESS.sub(lambda m: m.group(1).rsplit(".", 1)[-1] + "()", repr(fz))
    except Exception:
        text = type(fz).__name__ + "(...)"
    text = " ".join(text.split())
    module = type(fz).__module__
    if module.startswith("matminer."):
        return f"matminer:{text}"
    if module.startswith("assay."):
        return text
    return f"{module}.{text}"


class NotedFeaturizer(Featurizer):
    """A featuriser whose row computation also says why a value is NaN.

    Subclasses implement ``featurize_with_notes(x) -> (values, {label: reason})``; matminer's
    ``featurize`` and the batch loop's row hook both come from it, so the reasons are never lost.
    """

    def featurize_with_notes(self, x) -> tuple[list, dict[str, str]]:
        raise NotImplementedError(f"{type(self).__name__} must implement featurize_with_notes")

    def featurize(self, x):
        return self.featurize_with_notes(x)[0]

    def _featurize_row(self, x):
        return self.featurize_with_notes(x)
