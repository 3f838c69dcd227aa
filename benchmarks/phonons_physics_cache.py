"""Fill the feature cache with CHGNet's Gamma phonons + EOS for matbench_phonons, resumably.

Why: the physics block costs about 1.5-2 CPU-seconds per structure (~40 CPU-minutes for all
1,265 on a loaded 2-core machine). ``featurize`` writes its cache entry only at the end, so an
interrupted run loses everything; here K worker processes each run every K-th chunk of 16
structures (the very ``_chunk`` calls ``featurize(n_jobs=K)`` makes) and checkpoint each chunk,
and ``assemble`` joins them as ``CHGNetFeatures.featurize_batch`` and the pipeline do, writes the
entry under the key ``featurize`` uses, and checks that ``featurize`` then reads it as a hit.

Usage: OMP_NUM_THREADS=1 nice -n 15 python benchmarks/phonons_physics_cache.py work K_INDEX K [DIR]
       python benchmarks/phonons_physics_cache.py assemble [DIR]
"""
from __future__ import annotations

import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from assay.data.loading import load_task
from assay.features import featurize
from assay.features.base import BatchResult
from assay.features.cache import FeatureCache, hash_inputs
from assay.features.pipeline import _Inputs
from assay.features.pretrained import CHGNetFeatures, _chunk

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "matbench" / "matbench_phonons.json.gz"
DEFAULT_DIR = Path("/tmp/phon/chunks")


def _task():
    return load_task("phonons", DATA if DATA.is_file() else None, allow_download=False, progress=False)


def done_chunks(chunk_dir: Path) -> dict[int, tuple]:
    """{first row: (X, errors, notes)} of every finished chunk."""
    return {int(p.stem): pickle.loads(p.read_bytes()) for p in sorted(Path(chunk_dir).glob("[0-9]*.pkl"))}


def work(k: int, K: int, chunk_dir: Path = DEFAULT_DIR) -> None:
    chunk_dir.mkdir(parents=True, exist_ok=True)
    S = list(_task().inputs)
    fz = CHGNetFeatures(CHGNetFeatures.PHYSICS)
    t0, c0, done = time.perf_counter(), time.process_time(), 0
    for ci, start in enumerate(range(0, len(S), fz.chunk)):
        if ci % K != k or (chunk_dir / f"{start:05d}.pkl").exists():
            continue
        part = _chunk(fz, S[start:start + fz.chunk], start, fz.threads)
        tmp = chunk_dir / f".{start:05d}.tmp"
        tmp.write_bytes(pickle.dumps(part))
        tmp.rename(chunk_dir / f"{start:05d}.pkl")
        done += len(part[0])
        w, c = time.perf_counter() - t0, time.process_time() - c0
        print(f"worker {k}: chunk {start}  {done} structures  wall {w:.0f}s cpu {c:.0f}s  "
              f"{done / max(c, 1e-9):.2f}/cpu-s load {os.getloadavg()[0]:.2f}", flush=True)


def assemble(chunk_dir: Path = DEFAULT_DIR) -> None:
    task = _task()
    fz = CHGNetFeatures(CHGNetFeatures.PHYSICS)
    n = len(task.inputs)
    parts = done_chunks(chunk_dir)
    missing = [s for s in range(0, n, fz.chunk) if s not in parts]
    if missing:
        raise SystemExit(f"{len(missing)} chunks not computed yet (first rows {missing[:5]})")
    parts = [parts[s] for s in range(0, n, fz.chunk)]
    errors = {k: v for p in parts for k, v in p[1].items()}
    res = BatchResult(np.vstack([p[0] for p in parts]), [errors.get(i) for i in range(n)],
                      [nt for p in parts for nt in p[2]])
    rows = [(r, why, "") for r, why in enumerate(res.errors) if why] + [(r, why, f) for r, f, why in res.notes]
    X = pd.DataFrame(res.X, columns=fz.feature_labels())
    failed = pd.DataFrame(rows, columns=["row", "reason", "feature"])
    inp = _Inputs(task.inputs, "structure")
    FeatureCache().get_or_compute(inp.values, fz.cache_name(), fz.cache_params(), lambda: (X, failed),
                                  input_hash=hash_inputs(inp.values) + ":structure")
    fs = featurize(task.inputs, fz, input_type="structure", progress=False)
    assert fs.from_cache and np.allclose(fs.X.to_numpy(), res.X, equal_nan=True), "not read back as a hit"
    print(f"cache entry written and read back: {fs.X.shape}, {len(errors)} failed rows, {len(res.notes)} notes")


if __name__ == "__main__":
    if sys.argv[1] == "work":
        work(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]) if len(sys.argv) > 4 else DEFAULT_DIR)
    else:
        assemble(Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_DIR)
