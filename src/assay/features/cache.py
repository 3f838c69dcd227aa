"""On-disk feature cache: parquet files keyed by input content, featuriser and assay version.

A key changes whenever anything that could change the numbers changes (the inputs' content,
the featuriser's name or parameters, assay's version), so a hit can be trusted without
recomputing; writes go to a temporary file and are renamed into place, so a crash or a
concurrent writer never leaves a half-written file behind.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from assay.data.loading import cache_dir

__all__ = ["FeatureCache", "hash_inputs", "cache_key", "assay_version"]


def assay_version() -> str:
    try:
        return version("assay")
    except Exception:  # running from a source tree that is not installed
        return "unknown"


def _item_bytes(x) -> bytes:
    if isinstance(x, str):
        return b"s" + x.encode()
    if isinstance(x, dict):
        return b"d" + json.dumps(x, sort_keys=True, default=str).encode()
    if hasattr(x, "lattice") and hasattr(x, "frac_coords"):  # pymatgen Structure, hashed quickly
        # x.species raises AttributeError on partial occupancies; ordered hashes stay as they were
        species = "|".join(str(sp) for sp in (x.species if x.is_ordered else x.species_and_occu))
        props = json.dumps(x.site_properties, sort_keys=True, default=str) if x.site_properties else ""
        return (b"S" + np.ascontiguousarray(x.lattice.matrix, dtype=float).tobytes()
                + np.ascontiguousarray(x.frac_coords, dtype=float).tobytes()
                + species.encode() + props.encode() + str(getattr(x, "charge", 0)).encode())
    if hasattr(x, "as_dict"):
        return b"d" + json.dumps(x.as_dict(), sort_keys=True, default=str).encode()
    return b"r" + repr(x).encode()


def hash_inputs(inputs) -> str:
    """SHA-256 of the inputs' content, in order (index labels are not part of the content)."""
    h = hashlib.sha256()
    for x in inputs:
        b = _item_bytes(x)
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def cache_key(input_hash: str, name: str, params: dict) -> str:
    blob = json.dumps({"inputs": input_hash, "featurizer": name, "params": params,
                       "assay": assay_version()}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


class FeatureCache:
    """``get_or_compute`` returns (X, failed, from_cache); ``compute`` runs only on a miss.

    ``failed`` has columns row, reason, feature (feature "" = the whole row failed).
    """

    def __init__(self, root: str | os.PathLike | None = None):
        if root is None:
            root = cache_dir() / "features"
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / f"{key}.parquet"

    def get_or_compute(self, inputs, name: str, params: dict,
                       compute: Callable[[], tuple[pd.DataFrame, pd.DataFrame]],
                       input_hash: str | None = None):
        key = cache_key(input_hash or hash_inputs(inputs), name, params)
        hit = self.read(key)
        if hit is not None:
            return hit[0], hit[1], True
        X, failed = compute()
        self.write(key, X, failed, {"featurizer": name, "params": params})
        return X, failed, False

    def read(self, key: str):
        p = self.path(key)
        if not p.is_file():
            return None
        try:
            table = pq.read_table(p)
        except Exception:  # a corrupt entry is a miss, not an error
            return None
        meta = json.loads(table.schema.metadata[b"assay"].decode())
        X = table.to_pandas()
        X.columns = meta["columns"]
        failed = pd.DataFrame(meta["failed"], columns=["row", "reason", "feature"])
        return X, failed

    def write(self, key: str, X: pd.DataFrame, failed: pd.DataFrame, info: dict) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        cols = [str(c) for c in X.columns]
        frame = pd.DataFrame(np.asarray(X, dtype=float), columns=[f"f{i}" for i in range(len(cols))])
        table = pa.Table.from_pandas(frame, preserve_index=False)
        meta = {"columns": cols, "version": assay_version(), **info,
                "failed": [[int(r), str(w), str(f)] for r, w, f in zip(
                    failed["row"], failed["reason"],
                    failed["feature"] if "feature" in failed else [""] * len(failed))]}
        table = table.replace_schema_metadata({b"assay": json.dumps(meta, default=str).encode()})
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{key}.", suffix=".tmp")
        os.close(fd)
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, self.path(key))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return self.path(key)
