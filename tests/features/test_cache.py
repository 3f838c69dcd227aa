"""The feature cache reads instead of recomputing, and recomputes when anything changes."""
import os

import numpy as np
import pandas as pd
import pytest

from assay.features import featurize
from assay.features import composition as C
from assay.features.cache import FeatureCache, hash_inputs


def _compute_counter():
    calls = []

    def compute():
        calls.append(1)
        X = pd.DataFrame({"a": [1.0, np.nan], "b": [3.0, 4.0]})
        return X, pd.DataFrame([(1, "bad row", "")], columns=["row", "reason", "feature"])
    return calls, compute


def test_second_call_reads(tmp_path):
    cache = FeatureCache(tmp_path)
    calls, compute = _compute_counter()
    X1, f1, hit1 = cache.get_or_compute(["NaCl", "Xx"], "fz", {"p": 1}, compute)
    X2, f2, hit2 = cache.get_or_compute(["NaCl", "Xx"], "fz", {"p": 1}, compute)
    assert (hit1, hit2) == (False, True) and len(calls) == 1
    pd.testing.assert_frame_equal(X1, X2)
    assert f2.iloc[0].tolist() == [1, "bad row", ""]
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]  # atomic write left no temp file


@pytest.mark.parametrize("change", ["params", "name", "inputs", "order"])
def test_any_change_recomputes(tmp_path, change):
    cache = FeatureCache(tmp_path)
    calls, compute = _compute_counter()
    base = (["NaCl", "KCl"], "fz", {"p": 1})
    cache.get_or_compute(*base, compute)
    changed = {"params": (["NaCl", "KCl"], "fz", {"p": 2}), "name": (["NaCl", "KCl"], "fz2", {"p": 1}),
               "inputs": (["NaCl", "KBr"], "fz", {"p": 1}), "order": (["KCl", "NaCl"], "fz", {"p": 1})}[change]
    _, _, hit = cache.get_or_compute(*changed, compute)
    assert not hit and len(calls) == 2


def test_version_is_part_of_key(tmp_path, monkeypatch):
    from assay.features import cache as cache_mod

    cache = FeatureCache(tmp_path)
    calls, compute = _compute_counter()
    cache.get_or_compute(["NaCl"], "fz", {}, compute)
    monkeypatch.setattr(cache_mod, "assay_version", lambda: "999")
    cache.get_or_compute(["NaCl"], "fz", {}, compute)
    assert len(calls) == 2


def test_structure_hash_is_content_based(phonon_structures):
    s = list(phonon_structures[:3])
    assert hash_inputs(s) == hash_inputs([x.copy() for x in s])
    moved = [x.copy() for x in s]
    moved[0].translate_sites([0], [0.01, 0, 0])
    assert hash_inputs(moved) != hash_inputs(s)


def test_featurize_uses_cache_and_never_recomputes(monkeypatch):
    x = pd.Series(["NaCl", "Fe2O3", "Xx"], index=["a", "b", "c"])
    calls = []
    orig = C.ElementProperty._compute

    def counting(self, cm):
        calls.append(cm.n)
        return orig(self, cm)
    monkeypatch.setattr(C.ElementProperty, "_compute", counting)
    first = featurize(x, "magpie", progress=False)
    second = featurize(x, "magpie", progress=False)
    assert len(calls) == 1 and not first.from_cache and second.from_cache
    pd.testing.assert_frame_equal(first.X, second.X)
    pd.testing.assert_frame_equal(first.failed, second.failed)
    assert second.failed["id"].tolist() == ["c"]
    featurize(x, "magpie", cache=False, progress=False)
    assert len(calls) == 2
    # the cache lives under ASSAY_CACHE/features (set per test by conftest)
    root = os.path.join(os.environ["ASSAY_CACHE"], "features")
    assert any(p.endswith(".parquet") for p in os.listdir(root))
