"""The featurize() contract and the preset registry."""
import warnings

import numpy as np
import pandas as pd
import pytest

from assay.features import default_preset, featurize, list_presets

WIDTHS = {"magpie": 132, "composition-fast": 149, "composition-full": 1493, "random-control": 132,
          "onehot-control": 118}


def test_presets_listed():
    p = list_presets()
    assert set(WIDTHS) | {"structure-fast", "structure-full"} <= set(p)
    assert all(isinstance(v, str) and v for v in p.values())
    assert default_preset("composition") in p and default_preset("structure") in p
    with pytest.raises(ValueError):
        default_preset("molecule")


def test_magpie_preset_identical_to_matminer(formulas):
    from matminer.featurizers.composition import ElementProperty
    from pymatgen.core import Composition

    x = pd.Series(formulas[:400], index=[f"id{i}" for i in range(400)])
    fs = featurize(x, "magpie", progress=False)
    ref = ElementProperty.from_preset("magpie", impute_nan=False)
    assert fs.labels == ref.feature_labels()
    R = np.array([ref.featurize(Composition(f)) for f in x], dtype=float)
    np.testing.assert_allclose(fs.X.to_numpy(), R, rtol=1e-10, equal_nan=True)
    assert list(fs.X.index) == list(x.index) and fs.failed.empty and fs.citations


@pytest.mark.parametrize("preset", list(WIDTHS))
def test_composition_presets(preset, formulas):
    x = pd.Series(formulas[:300] + ["Xx3", "not a formula"])
    fs = featurize(x, preset, progress=False)
    assert fs.X.shape == (302, WIDTHS[preset]) and fs.X.columns.is_unique
    assert fs.failed["row"].tolist() == [300, 301] and fs.failed["reason"].str.len().min() > 0
    # NaN rows only where reported
    all_nan = set(np.flatnonzero(fs.X.isna().all(1)))
    assert all_nan <= set(fs.failed["row"])
    assert fs.preset == preset and fs.seconds > 0


def test_structure_presets_and_composition_of_structures(phonon_structures):
    s = phonon_structures[:6]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = featurize(s, "structure-fast", input_type="structure", progress=False)
        full = featurize(s, "structure-full", input_type="structure", progress=False)
        mag = featurize(s, "magpie", input_type="structure", progress=False)
    comp = featurize(pd.Series([x.composition.formula for x in s], index=s.index), "magpie", progress=False)
    pd.testing.assert_frame_equal(mag.X, comp.X)
    assert fast.X.shape[0] == full.X.shape[0] == 6 and full.X.shape[1] > fast.X.shape[1] > 149
    assert "spacegroup number" in fast.labels and "ewald energy per atom" in full.labels
    assert fast.failed.empty
    # every NaN in the structure-full table is explained in notes
    nan_cells = {(r, c) for r, c in zip(*np.nonzero(full.X.isna().to_numpy()))}
    noted = {(r, full.labels.index(f)) for r, f in zip(full.notes["row"], full.notes["feature"])}
    struct_cols = set(range(full.X.shape[1] - 44, full.X.shape[1]))
    assert {c for c in nan_cells if c[1] in struct_cols} <= noted


def test_errors_for_wrong_usage(formulas):
    with pytest.raises(KeyError):
        featurize(pd.Series(["NaCl"]), "nope")
    with pytest.raises(ValueError):
        featurize(pd.Series(["NaCl"]), "structure-fast")


def test_matminer_preset_by_name():
    fs = featurize(pd.Series(["NaCl", "Fe2O3"]), "matminer:Stoichiometry", progress=False)
    assert fs.X.shape == (2, 6) and fs.failed.empty
    assert fs.X.iloc[0, 0] == 2
