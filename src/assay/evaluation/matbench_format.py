"""Matbench-format result files (``results.json.gz``), ready to submit to the leaderboard.

Mirrors matbench's MatbenchBenchmark.as_dict: tasks -> results -> fold_i -> {data, parameters,
scores}, with the SHA-256 hash matbench checks when it reads the file back.
"""
from __future__ import annotations

import datetime as _dt
import gzip
import hashlib
import json

import numpy as np

from ..store.atomic import atomic_write_bytes

MATBENCH_VERSION = "0.6"
BENCHMARK = "matbench_v0.1"


def _immutify(d):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out[k] = _immutify(v)
        elif isinstance(v, (list, tuple, np.ndarray)):
            out[k] = [x.item() if hasattr(x, "item") else x for x in v]
        elif hasattr(v, "item"):
            out[k] = v.item()
        else:
            out[k] = v
    return dict(sorted(out.items(), key=lambda kv: kv[0]))


def matbench_hash(d: dict) -> str:
    return hashlib.sha256(json.dumps(_immutify(d)).encode("utf-8")).hexdigest()


def task_results(task_name: str, fold_predictions: list[dict], fold_scores: list[dict],
                 parameters: list[dict | None] | None = None) -> dict:
    """One MatbenchTask dict. ``fold_predictions[k]`` maps mbid -> prediction (or
    {"mean"/"std"/"interval"} for uncertainty where Matbench allows)."""
    parameters = parameters or [None] * len(fold_predictions)
    results = {}
    for k, (preds, scores, params) in enumerate(zip(fold_predictions, fold_scores, parameters)):
        results[f"fold_{k}"] = {"data": preds, "parameters": params, "scores": scores}
    return {"@module": "matbench.task", "@class": "MatbenchTask", "benchmark_name": BENCHMARK,
            "dataset_name": task_name, "results": results}


def benchmark_dict(tasks: dict[str, dict], user_metadata: dict | None = None) -> dict:
    d = {
        "@module": "matbench.bench",
        "@class": "MatbenchBenchmark",
        "version": MATBENCH_VERSION,
        "tasks": _immutify(tasks),
        "user_metadata": user_metadata or {},
        "benchmark_name": BENCHMARK,
        "datestamp": _dt.datetime.now(_dt.timezone.utc).strftime("%Y.%m.%d %H:%M.%S"),
    }
    d["hash"] = matbench_hash(d)
    return d


def write_results(path, d: dict) -> None:
    atomic_write_bytes(path, gzip.compress(json.dumps(d).encode("utf-8"), mtime=0))


def read_results(path) -> dict:
    with gzip.open(path, "rt") as fh:
        d = json.load(fh)
    expected = d.pop("hash")
    if matbench_hash(d) != expected:
        raise ValueError(f"{path}: hash mismatch; the file was modified after it was written")
    d["hash"] = expected
    return d
