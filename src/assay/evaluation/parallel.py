"""Run independent jobs (model x fold x variant) in parallel processes, locally or on Dask.

Locally: joblib's loky processes (``n_jobs``). With a cluster address (``tcp://host:8786``):
joblib's ``dask`` backend through a ``distributed.Client``; every job writes its own result file
into the run folder as it finishes, so on a multi-machine cluster the run folder must be on a
filesystem all workers share (on a ``LocalCluster`` it is). Each job is seeded on its own, so
serial, local-parallel and Dask runs give the same numbers.

Jobs travel as cloudpickle bytes: a user's own model or featuriser (defined in a file, a
notebook or ``__main__``) reaches the worker as code, instead of a name the worker cannot import.
Jobs may be a generator: they are made as the pool asks for them, so only a few jobs' rows exist
at once.
"""
from __future__ import annotations

from typing import Callable, Iterable

import os
import threading
import time

import cloudpickle
import joblib


_WATCHING: list[int] = []


def _end_with_parent() -> None:
    """A worker whose parent is gone (SIGKILL, OOM killer) exits at once instead of computing
    its fold for minutes: a daemon thread checks every half second who its parent is."""
    if _WATCHING:
        return
    parent = os.getppid()
    _WATCHING.append(parent)

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="assay-parent-watch", daemon=True).start()


def _call(fn: Callable, blob: bytes):
    _end_with_parent()
    return fn(cloudpickle.loads(blob))


def run_jobs(fn: Callable, jobs: Iterable, *, n_jobs: int = 1, cluster: str | None = None,
             on_done: Callable | None = None, n_total: int | None = None) -> list:
    out: list = []

    def done(r):
        out.append(r)
        if on_done is not None:
            on_done(r)

    jobs = iter(jobs)
    if cluster:
        from distributed import Client

        with Client(cluster):  # registers itself as the dask client joblib uses
            with joblib.parallel_config(backend="dask"):
                for r in joblib.Parallel(n_jobs=-1)(joblib.delayed(_call)(fn, cloudpickle.dumps(j))
                                                    for j in jobs):
                    done(r)
        return out
    if n_jobs > 1 and (n_total is None or n_total > 1):
        par = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered", pre_dispatch="n_jobs")
        for r in par(joblib.delayed(_call)(fn, cloudpickle.dumps(j)) for j in jobs):
            done(r)
        return out
    for j in jobs:
        done(fn(j))
    return out
