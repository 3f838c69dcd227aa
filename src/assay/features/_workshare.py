"""Chunked featurisation over worker processes, with the calling process working while they start.

Why: a fresh worker spends ~10 s of CPU importing torch and loading the potential, as much as
~150 structures of CHGNet energies; with ``n_jobs=2`` on two busy cores, two cold workers, an idle
caller and chunks of 16 made CHGNet 3x *slower* than one process (measured: 37.6 s of CPU vs
13.0 s for 200 phonons structures), and loky restarted any worker whose memory had grown by
300 MB, so every call paid the start again. Here the caller takes chunks from the front while
the workers take them, one chunk per task, from the back; once a worker has delivered (it is
warm), the caller stops computing and only collects. Workers are not replaced for holding on to
freed heap pages (see ``_tolerate_growth``) and run one torch inter-op thread. Chunk boundaries are those of one
process, so the values are bit-identical whatever ``n_jobs`` is.
"""
from __future__ import annotations

import contextlib
import threading
import time
from collections import deque

from joblib import Parallel, delayed, effective_n_jobs, parallel_config
from joblib.externals.loky import process_executor
from joblib.parallel import get_active_backend

from ..ui import say

__all__ = ["run_chunks", "progress", "PROGRESS_ABOVE"]

PROGRESS_ABOVE = 500  # log progress lines only for inputs at least this big


def run_chunks(fn, fz, structures: list, chunk: int, n_jobs: int, threads: int, what: str) -> tuple[list, dict]:
    """``fn(fz, structures[i:i + chunk], i, threads)`` for every chunk start ``i``, in order.

    Returns (the chunks' results in input order, {"processes": n, "caller_chunks": k}). With
    ``n_jobs`` > 1, ``n_jobs`` worker processes share the chunks with the caller (see the module
    docstring); a progress line with structures/s goes to the log every ~10 % of big inputs."""
    starts = list(range(0, len(structures), max(1, int(chunk))))
    workers = effective_n_jobs(n_jobs) if n_jobs else 1
    workers = max(1, min(workers, len(starts)))
    t0 = time.perf_counter()
    tick = progress(len(structures) >= PROGRESS_ABOVE,
                    f"{what} ({workers} process{'es' * (workers > 1)})", len(structures))
    done: dict[int, object] = {}
    if workers == 1:
        for i in starts:
            done[i] = fn(fz, structures[i:i + chunk], i, threads)
            tick(_rows(done[i]))
        _summary(what, len(structures), t0, 1, threads)
        return [done[i] for i in starts], {"processes": 1, "caller_chunks": len(starts)}
    todo = deque(starts)
    lock = threading.Lock()
    pulled = [0]

    def tasks():  # pulled by joblib at dispatch and each time a task ends
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop()
                pulled[0] += 1
            yield delayed(_in_worker)(fn, fz, structures[i:i + chunk], i, threads)

    with _capped(threads):
        out = Parallel(n_jobs=workers, return_as="generator_unordered", batch_size=1,
                       pre_dispatch="n_jobs")(tasks())
    mine = 0
    while pulled[0] <= workers:  # no worker has finished a chunk yet: keep working here
        with lock:
            if not todo:
                break
            i = todo.popleft()
        done[i] = fn(fz, structures[i:i + chunk], i, threads)
        mine += 1
        tick(_rows(done[i]))
    for i, part in out:
        done[i] = part
        tick(_rows(part))
    _summary(what, len(structures), t0, workers, threads)
    return [done[i] for i in starts], {"processes": workers, "caller_chunks": mine}


def _summary(what: str, n: int, t0: float, workers: int, threads: int) -> None:
    dt = time.perf_counter() - t0
    if n >= 2:
        say(f"{what}: {n} structures in {dt:.1f} s ({n / max(dt, 1e-9):.1f} structures/s, {workers} process"
            f"{'es' * (workers > 1)} x {threads} thread{'s' * (threads > 1)})")


def _rows(part) -> int:
    return len(part[0])


LEAK_LIMIT = int(3e9)  # bytes of RSS growth after which loky replaces a worker (its default: 300 MB)


def _in_worker(fn, fz, structures, offset, threads):
    _one_interop_thread()
    _tolerate_growth()
    return offset, fn(fz, structures, offset, threads)


def _tolerate_growth() -> None:
    """Raise loky's memory-leak limit in this worker from 300 MB to LEAK_LIMIT. Why: glibc keeps
    freed pages, so a worker's RSS settles at its largest CHGNet batch, 300-400 MB above its size
    after the first task; loky then replaced the worker, and the new one spent ~10 s of CPU
    importing torch and reloading the model. Trimming the heap after every chunk instead made the
    next chunk's page faults cost ~2x the CPU (both measured). loky reads the limit, a module
    global, after every task; a loky without it is left alone."""
    if getattr(process_executor, "_MAX_MEMORY_LEAK_SIZE", LEAK_LIMIT) < LEAK_LIMIT:
        process_executor._MAX_MEMORY_LEAK_SIZE = LEAK_LIMIT


def _one_interop_thread() -> None:
    """A worker process never needs torch's inter-op pool (one per core by default): one thread.
    Only possible before torch's first parallel work in the process, hence the guard."""
    import torch

    with contextlib.suppress(RuntimeError):
        if torch.get_num_interop_threads() != 1:
            torch.set_num_interop_threads(1)


def _capped(threads):
    """Loky workers start with OpenMP/MKL pools ``threads`` wide (set before they import torch),
    as the feature pipeline asks; the same setting on every call keeps loky reusing its workers
    (a changed environment makes it start new ones). Another backend, or a set cap, is left alone."""
    backend = get_active_backend()[0]
    if type(backend).__name__ != "LokyBackend" or getattr(backend, "inner_max_num_threads", None):
        return contextlib.nullcontext()
    return parallel_config(backend="loky", inner_max_num_threads=max(1, int(threads or 1)))


def progress(show: bool, what: str, total: int):
    """tick(n): a log line with the count, structures/s and an ETA at most every 10% of the input
    (plain lines, not a live bar: the pipeline may already be drawing one)."""
    state = {"done": 0, "next": 0, "t0": time.perf_counter()}

    def tick(n):
        state["done"] += n
        if not show or (state["done"] < state["next"] and state["done"] < total):
            return
        state["next"] = state["done"] + max(1, total // 10)
        dt = time.perf_counter() - state["t0"]
        rate = state["done"] / max(dt, 1e-9)
        say(f"{what}: {state['done']}/{total} structures, {dt:.0f} s, {rate:.1f} structures/s, "
            f"ETA {(total - state['done']) / max(rate, 1e-9):.0f} s")
    return tick
