"""Chunks shared between the caller and worker processes (assay.features._workshare)."""
import os

import numpy as np

from assay.features import _workshare as W


def _fake_chunk(fz, part, offset, threads):
    """One row per item: its value times fz[0], the row number, the process and loky's leak limit;
    slow (sleeping) in the process fz[1] so the workers get chunks too."""
    import time

    from joblib.externals.loky import process_executor

    if os.getpid() == fz[1]:
        time.sleep(fz[2])
    fz = fz[0]
    X = np.array([[v * fz, offset + j, os.getpid(), process_executor._MAX_MEMORY_LEAK_SIZE]
                  for j, v in enumerate(part)], dtype=float)
    errors = {offset + j: "odd" for j, v in enumerate(part) if v % 7 == 3}
    return X, errors, [(offset, "f", "first of its chunk")]


def test_chunks_come_back_in_order_once_each_and_equal_to_one_process():
    items = list(range(23))
    one, info1 = W.run_chunks(_fake_chunk, (2.0, 0, 0), items, 4, 1, 1, "fake")
    two, info2 = W.run_chunks(_fake_chunk, (2.0, os.getpid(), 1.0), items, 4, 2, 1, "fake")
    assert info1 == {"processes": 1, "caller_chunks": 6} and info2["processes"] == 2
    assert 0 <= info2["caller_chunks"] <= 6
    X1, X2 = np.vstack([p[0] for p in one]), np.vstack([p[0] for p in two])
    assert np.array_equal(X1[:, :2], X2[:, :2]) and list(X2[:, 1]) == list(range(23))
    assert [p[1] for p in one] == [p[1] for p in two] and [p[2] for p in one] == [p[2] for p in two]
    in_workers = X2[X2[:, 2] != os.getpid()]
    if info2["caller_chunks"] < 6:  # the workers did some chunks: they keep their grown heap
        assert len(in_workers) and (in_workers[:, 3] == W.LEAK_LIMIT).all()
    assert (X1[:, 2] == os.getpid()).all()


def test_more_processes_than_chunks_and_empty_input():
    parts, info = W.run_chunks(_fake_chunk, (1.0, 0, 0), [1, 2, 3], 4, 2, 1, "fake")
    assert info == {"processes": 1, "caller_chunks": 1} and len(parts) == 1
    parts, info = W.run_chunks(_fake_chunk, (1.0, 0, 0), [], 4, 2, 1, "fake")
    assert parts == [] and info["processes"] == 1


def test_progress_lines_give_count_rate_and_eta(monkeypatch):
    said = []
    monkeypatch.setattr(W, "say", said.append)
    tick = W.progress(True, "x", 20)
    for _ in range(4):
        tick(5)
    assert len(said) == 4 and "20/20 structures" in said[-1] and "structures/s" in said[-1] and "ETA" in said[0]
    quiet = W.progress(False, "x", 20)
    quiet(20)
    assert len(said) == 4
