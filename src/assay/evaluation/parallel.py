"""Run independent jobs (model x fold x variant) in parallel processes, locally or on Dask.

Locally: joblib's loky processes (``n_jobs``). With a cluster address (``tcp://host:8786``):
joblib's ``dask`` backend through a ``distributed.Client``; every job writes its own result file
into the run folder as it finishes, so on a multi-machine cluster the run folder must be on a
filesystem all workers share (on a ``LocalCluster`` it is). Each job is seeded on its own, so
serial, local-parallel and Dask runs give the same numbers.
"""
from __future__ import annotations

from typing import Callable, Iterable

import joblib


def run_jobs(fn: Callable[[dict], dict], jobs: list[dict], *, n_jobs: int = 1,
             cluster: str | None = None, on_done: Callable[[dict], None] | None = None) -> list[dict]:
    out: list[dict] = []

    def done(r):
        out.append(r)
        if on_done is not None:
            on_done(r)

    if not jobs:
        return out
    if cluster:
        from distributed import Client

        with Client(cluster):  # registers itself as the dask client joblib uses
            with joblib.parallel_config(backend="dask"):
                for r in joblib.Parallel(n_jobs=-1)(joblib.delayed(fn)(j) for j in jobs):
                    done(r)
        return out
    if n_jobs > 1 and len(jobs) > 1:
        par = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        for r in par(joblib.delayed(fn)(j) for j in _ordered(jobs)):
            done(r)
        return out
    for j in jobs:
        done(fn(j))
    return out


def _ordered(jobs: Iterable[dict]) -> list[dict]:
    """Longest-expected jobs first, so the pool is not left waiting on one straggler."""
    return sorted(jobs, key=lambda j: -j.get("cost", 1.0))
