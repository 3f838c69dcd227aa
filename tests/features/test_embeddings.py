"""Element embeddings pooled by composition: hand-computed pooling, unknown elements, presets."""
import importlib.util
import json
import os

import numpy as np
import pandas as pd
import pytest

from assay.features import featurize, list_presets
from assay.features import embeddings as E

pytestmark = pytest.mark.skipif(importlib.util.find_spec("elementembeddings") is None,
                                reason="elementembeddings not installed")

WIDTHS = {"mat2vec": 800, "megnet16": 64, "oliynyk": 176, "skipatom": 800, "chgnet": 256,
          "mace_mp0": 512, "sevennet": 512, "orb_v2": 1024}


def _raw_megnet16():
    """The shipped file read independently of assay's loader."""
    d = list(importlib.util.find_spec("elementembeddings").submodule_search_locations)[0]
    with open(os.path.join(d, "data", "element_representations", "megnet16.json")) as fh:
        return {k: np.array(v, dtype=float) for k, v in json.load(fh).items()}


def test_pooling_equals_hand_computed():
    raw = _raw_megnet16()
    fe, o, li, p = raw["Fe"], raw["O"], raw["Li"], raw["P"]
    X = E.ElementEmbedding("megnet16").featurize_many(["Fe2O3", "LiFePO4"])
    # Fe2O3: fractions 0.4 / 0.6; population std of two values = sqrt(w1 w2) |a - b|
    want = np.concatenate([0.4 * fe + 0.6 * o, np.sqrt(0.24) * np.abs(fe - o),
                           np.minimum(fe, o), np.maximum(fe, o)])
    np.testing.assert_allclose(X[0], want, rtol=1e-12, atol=1e-12)
    # LiFePO4: 1/7, 1/7, 1/7, 4/7
    vals, w = np.stack([li, fe, p, o]), np.array([1, 1, 1, 4]) / 7
    mean = w @ vals
    std = np.sqrt(w @ (vals - mean) ** 2)
    np.testing.assert_allclose(X[1], np.concatenate([mean, std, vals.min(0), vals.max(0)]), rtol=1e-12, atol=1e-12)


def test_single_element_has_zero_spread():
    X = E.ElementEmbedding("mat2vec").featurize_many(["Si", "Si2"])
    np.testing.assert_array_equal(X[0], X[1])
    mean, std, lo, hi = np.split(X[0], 4)
    assert np.all(std == 0) and np.array_equal(lo, mean) and np.array_equal(hi, mean)


def test_unknown_element_reported_in_failed():
    x = pd.Series(["Fe2O3", "CmO2", "NaCl", "Xx2"], index=["a", "b", "c", "d"])
    fs = featurize(x, "embedding-megnet16", progress=False, cache=False)
    assert fs.failed["row"].tolist() == [1, 3]
    why = dict(zip(fs.failed["id"], fs.failed["reason"]))
    assert "Cm" in why["b"] and "megnet16" in why["b"]
    assert "cannot parse" in why["d"]
    assert fs.X.loc[["b", "d"]].isna().all().all() and np.isfinite(fs.X.loc[["a", "c"]].to_numpy()).all()


@pytest.mark.parametrize("name", list(WIDTHS))
def test_embedding_presets(name, formulas):
    preset = f"embedding-{name}"
    assert preset in list_presets()
    fs = featurize(pd.Series(formulas[:200]), preset, progress=False, cache=False)
    assert fs.X.shape == (200, WIDTHS[name]) and fs.X.columns.is_unique and fs.citations
    bad = set(fs.failed["row"])
    ok = [i for i in range(200) if i not in bad]
    assert np.isfinite(fs.X.iloc[ok].to_numpy()).all()  # every unexplained row is complete
    assert fs.X.iloc[sorted(bad)].isna().all(axis=None)


def test_matminer_contract():
    fz = E.ElementEmbedding("oliynyk")
    row = fz.featurize("NaCl")
    assert len(row) == len(fz.feature_labels()) == 176
    np.testing.assert_array_equal(row, fz.featurize_many(["NaCl"])[0])
    assert "oliynyk mean Atomic_Number" in fz.feature_labels()
    np.testing.assert_allclose(row[fz.feature_labels().index("oliynyk mean Atomic_Number")], (11 + 17) / 2)
    with pytest.raises(ValueError, match="Pu"):
        fz.featurize_many(["PuO2"])
    assert fz.implementors() and fz.params()["source"].startswith("elementembeddings")


def test_fallback_to_matminer_without_the_package(monkeypatch):
    monkeypatch.setattr(E, "_package_dir", lambda: None)
    E.embedding_table.cache_clear()
    try:
        fz = E.ElementEmbedding("mat2vec")
        assert fz.params()["source"] == "matminer"
        from matminer.utils.data import MatscholarElementData
        from pymatgen.core import Element

        ref = MatscholarElementData()
        X = fz.featurize_many(["Fe"])
        want = [ref.get_elemental_property(Element("Fe"), f"embedding {i}") for i in range(1, 201)]
        np.testing.assert_allclose(X[0][:200], want)
        with pytest.raises(ImportError, match="pip install elementembeddings"):
            E.ElementEmbedding("oliynyk")
    finally:
        E.embedding_table.cache_clear()
