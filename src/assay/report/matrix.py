"""The run's feature matrix beside its out-of-fold predictions, loaded once per report for the
sections that draw features, the chemical-space map and the element table.

The features are rebuilt the way ``assay explain`` rebuilds them (the run's own data, preset and
feature cache, checked against the recorded data hash); when that is not possible the sections
say why instead of failing the report.
"""
from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..explanation.run_inputs import RunData as ExplainInputs

_KEY = "_lecture_matrix"
#: (content stamp of a run, what) -> result, kept across report builds in one process: the report,
#: the slides and the notebook each build the sections, and a test session builds one run's
#: report many times; the features, figures and counterfactual searches are computed once.
_MEMO: OrderedDict = OrderedDict()
_MEMO_SIZE = 48
#: the files whose content decides what these sections show
_STAMPED = ("run.json", "config.toml", "features.json", "folds.json", "predictions.parquet")


def _stamp(path) -> str:
    h = hashlib.sha256()
    for name in _STAMPED:
        p = path / name
        h.update(name.encode() + (p.read_bytes() if p.is_file() else b"-"))
    trust = path / "trust"
    if trust.is_dir():
        for p in sorted(trust.iterdir()):
            h.update(f"{p.name}:{p.stat().st_size}".encode())
    return h.hexdigest()


def memo(b, what: str, compute):
    """``compute()`` once per run content (not per path: a copied run folder reuses it)."""
    if "_lecture_stamp" not in b.__dict__:
        b.__dict__["_lecture_stamp"] = _stamp(b.run.path)
    key = (b.__dict__["_lecture_stamp"], what)
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    out = _MEMO[key] = compute()
    while len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return out


@dataclass
class Matrix:
    X: np.ndarray  # (rows, features), the run's feature columns
    labels: list[str]
    ids: np.ndarray
    y: np.ndarray
    inputs: pd.Series  # formulas or structures, row order of X
    input_type: str
    test_fold: np.ndarray  # fold in which each row was a test row (-1: never)
    y_pred: np.ndarray  # out-of-fold prediction of the primary model (NaN where none)
    proba: np.ndarray | None  # out-of-fold P(class 1) (classification)
    abs_error: np.ndarray  # |y - prediction|; classification: |y - P(class 1)| (or 0/1 when no P)
    seconds: float


def matrix(b) -> Matrix | None:
    """The Matrix of ``b``'s run, built on first use; None (with ``b._lecture_matrix_why``) when
    the data or features cannot be rebuilt."""
    if _KEY not in b.__dict__:
        b.__dict__[_KEY], b.__dict__[_KEY + "_why"] = memo(b, "matrix", lambda: _load(b))
    return b.__dict__[_KEY]


def _load(b) -> tuple[Matrix | None, str]:
    t0 = time.perf_counter()
    try:
        rd = ExplainInputs(b.run.path)
    except Exception as exc:  # noqa: BLE001 - the data may have moved; the sections say so
        return None, f"{type(exc).__name__}: {exc}"
    ids = np.asarray([str(i) for i in rd.ids])
    p = b.run.preds().assign(id=lambda d: d["id"].astype(str)).drop_duplicates("id").set_index("id")
    p = p.reindex(ids)
    y_pred = p["y_pred"].to_numpy(float)
    proba = p["y_proba"].to_numpy(float) if "y_proba" in p and p["y_proba"].notna().any() else None
    if rd.task_type == "classification":
        err = np.abs(rd.y - proba) if proba is not None else (y_pred != rd.y).astype(float)
        err = np.where(np.isnan(y_pred), np.nan, err)
    else:
        err = np.abs(rd.y - y_pred)
    tf = np.asarray(b.run.test_fold if b.run.test_fold is not None else np.full(len(ids), -1))
    m = Matrix(X=rd.X, labels=list(rd.labels), ids=ids, y=np.asarray(rd.y, float),
               inputs=pd.Series(list(rd.dataset.inputs)), input_type=rd.dataset.input_type,
               test_fold=tf if len(tf) == len(ids) else np.full(len(ids), -1), y_pred=y_pred,
               proba=proba, abs_error=err, seconds=time.perf_counter() - t0)
    return m, ""


def why_missing(b) -> str:
    return b.__dict__.get(_KEY + "_why", "")


def extend(b, sid: str, html: str, md: list[str] | None = None) -> None:
    """Append a block to a section already built (a subsection of it)."""
    s = b.sections[sid]
    s.html += html
    s.md.extend(md or [])
