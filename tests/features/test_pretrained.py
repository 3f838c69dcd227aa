"""CHGNet as a feature source: the missing-extra error, the EOS fit, and (if installed) the physics."""
import importlib.util

import numpy as np
import pandas as pd
import pytest

from assay.features import featurize, list_presets
from assay.features import pretrained as P

HAVE_CHGNET = importlib.util.find_spec("chgnet") is not None and importlib.util.find_spec("torch") is not None
needs_chgnet = pytest.mark.skipif(not HAVE_CHGNET, reason="assay[pretrained] (chgnet, torch) not installed")


def _nacl():
    from pymatgen.core import Lattice, Structure

    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]]).get_primitive_structure()


def _si():
    from pymatgen.core import Lattice, Structure

    return Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.431), ["Si"], [[0, 0, 0]]).get_primitive_structure()


def test_presets_listed_even_without_the_extra():
    p = list_presets()
    assert {"chgnet", "chgnet-physics", "structure+chgnet"} <= set(p)
    assert "assay[pretrained]" in p["chgnet"]


def test_missing_extra_gives_install_command(monkeypatch):
    monkeypatch.setattr(P, "_find", lambda mod: None)
    with pytest.raises(ImportError, match=r"pip install 'assay\[pretrained\]'"):
        featurize(pd.Series(["NaCl"]), "chgnet", input_type="structure", cache=False)
    with pytest.raises(ImportError, match="torch, chgnet"):
        P.CHGNetFeatures()


def test_chgnet_presets_need_structures():
    with pytest.raises(ValueError, match="needs structures"):
        featurize(pd.Series(["NaCl"]), "chgnet-physics", input_type="composition", cache=False)


def test_birch_murnaghan_fit_recovers_known_parameters():
    v0, e0, b0_gpa, bp = 20.0, -5.0, 100.0, 4.5
    b0 = b0_gpa / P.EV_A3_TO_GPA
    v = v0 * np.linspace(0.97, 1.03, 5)
    eta = (v0 / v) ** (2 / 3)
    e = e0 + 9 * v0 * b0 / 16 * ((eta - 1) ** 3 * bp + (eta - 1) ** 2 * (6 - 4 * eta))
    fv0, fe0, fb, found = P.fit_birch_murnaghan(v, e)
    assert found
    np.testing.assert_allclose([fv0, fe0, fb], [v0, e0, b0_gpa], rtol=1e-6)
    # a monotonic E(V) has no minimum: flagged, curvature still returned
    *_, found = P.fit_birch_murnaghan(v, -0.1 * v)
    assert not found


def test_frequency_unit_conversion():
    # one eV/(A^2 amu) is 521.47 cm^-1 (= 15.63 THz)
    assert P.CM1_PER_SQRT_EV_A2_AMU == pytest.approx(521.47, abs=0.01)


@needs_chgnet
def test_nacl_gamma_has_three_acoustic_and_positive_optical_modes():
    raw, = P.gamma_frequencies([_nacl()], asr=False)
    assert raw.shape == (6,)
    acoustic = np.sort(np.abs(raw))[:3]
    assert np.all(acoustic < 5.0), raw  # finite differences alone nearly satisfy translation invariance
    optical = np.sort(raw)[3:]
    assert np.all(optical > 60.0) and np.all(optical < 250.0), raw  # rocksalt TO(Gamma) ~ 120-165 cm^-1
    np.testing.assert_allclose(optical, optical.mean(), rtol=1e-3)  # cubic: triply degenerate
    fixed, = P.gamma_frequencies([_nacl()], asr=True)
    assert np.all(np.abs(np.sort(np.abs(fixed))[:3]) < 1e-3)
    np.testing.assert_allclose(np.sort(fixed)[3:], optical, rtol=1e-2)


@needs_chgnet
def test_compressed_cell_is_higher_than_scan_minimum():
    nacl, si = _nacl(), _si()
    v, e = P.energy_volume_scan([nacl, si])
    assert v.shape == e.shape == (2, 5)
    (v0, e0, b_nacl, ok1), (_, _, b_si, ok2) = (P.fit_birch_murnaghan(v[i], e[i]) for i in range(2))
    assert ok1 and ok2 and e0 <= e[0].min() + 1e-6
    assert 15 < b_nacl < 60 and 60 < b_si < 130  # experiment: ~25 and ~98 GPa
    squeezed = nacl.copy()
    squeezed.scale_lattice(v0 * len(nacl) * 0.90)
    e_sq = P.load_chgnet().predict_structure(squeezed, task="e")["e"]
    assert float(e_sq) > e[0].min() + 1e-3


@needs_chgnet
def test_physics_preset_shapes_and_finite_values():
    from pymatgen.core import Lattice, Structure

    cu = Structure(Lattice.cubic(3.61), ["Cu"] * 4, [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    cu1 = cu.get_primitive_structure()
    lonely = Structure(Lattice.cubic(20.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])  # isolated atoms
    x = pd.Series([_si(), _nacl(), cu1, lonely], index=["si", "nacl", "cu", "lonely"])
    fs = featurize(x, "chgnet-physics", input_type="structure", progress=False)
    assert fs.X.shape == (4, 267) and fs.X.columns.is_unique
    assert fs.failed["id"].tolist() == ["lonely"] and "isolated" in fs.failed["reason"].iloc[0]
    assert np.isfinite(fs.X.loc[["si", "nacl"]].to_numpy()).all()
    # one atom per cell: no optical modes, NaN with a reason for exactly those columns
    cu_nan = fs.X.columns[fs.X.loc["cu"].isna()].tolist()
    assert cu_nan and all("gamma" in c for c in cu_nan)
    assert set(fs.notes.loc[fs.notes["id"] == "cu", "feature"]) == set(cu_nan)
    assert fs.X.loc["si", "chgnet gamma_freq_max (cm-1)"] > fs.X.loc["nacl", "chgnet gamma_freq_max (cm-1)"]
    assert fs.X.loc["nacl", "chgnet energy_per_atom (eV)"] < 0
    # second call: cached, identical
    again = featurize(x, "chgnet-physics", input_type="structure", progress=False)
    assert again.from_cache
    pd.testing.assert_frame_equal(again.X, fs.X)
    # 'chgnet' is the first block of 'chgnet-physics' and comes from its cache entry
    fast = featurize(x, "chgnet", input_type="structure", progress=False)
    assert fast.from_cache and fast.X.shape[1] == 260
    pd.testing.assert_frame_equal(fast.X, fs.X.iloc[:, :260])


@needs_chgnet
def test_featurizer_contract_and_batching_invariance():
    fz = P.CHGNetFeatures(chunk=1)
    one = np.array(fz.featurize(_nacl()))
    both = P.CHGNetFeatures(chunk=16).featurize_many([_si(), _nacl()])
    assert len(one) == len(fz.feature_labels()) == 260 and fz.citations() and fz.implementors()
    np.testing.assert_allclose(both[1], one, rtol=1e-4, atol=1e-5)  # batching does not change values
    assert "batch_size" not in fz.params() and fz.params()["chgnet"]


@needs_chgnet
def test_phonon_batch_cap_changes_memory_not_values():
    # the atom cap per force batch exists only to bound memory: one graph per batch and all six
    # displaced NaCl copies in one batch must give the same forces, and the cap is not a cache key
    m = P.load_chgnet()
    s = _nacl()
    g = m.graph_converter(s)
    one = P.displaced_forces(m, g, s, 0.01, batch_atoms=1)
    many = P.displaced_forces(m, g, s, 0.01, batch_atoms=1000)
    assert one.shape == (12, 2, 3)
    np.testing.assert_allclose(one, many, rtol=0, atol=1e-6)
    np.testing.assert_allclose(one[0], -one[1], atol=1e-3)  # +x and -x displacements push back oppositely
    assert "phonon_batch_atoms" not in P.CHGNetFeatures(groups=("phonons",)).params()


@needs_chgnet
def test_physics_block_in_two_processes_equals_one_and_is_shared_with_chgnet_physics():
    # 'assay run matbench_phonons -j 2' featurises the Gamma phonons in two worker processes: the
    # values must be those of one process, and 'structure-phonons' must reuse the cache entry of
    # 'chgnet-physics' (the same physics block), not compute its own
    from assay.features.presets import preset_featurizers

    ours = preset_featurizers("structure-phonons", "structure")[-1]
    theirs = preset_featurizers("chgnet-physics", "structure")[-1]
    assert (ours.cache_name(), ours.cache_params()) == (theirs.cache_name(), theirs.cache_params())
    x = pd.Series([_si(), _nacl(), _si().scale_lattice(37.0)], index=["si", "nacl", "si-squeezed"])
    fz = P.CHGNetFeatures(P.CHGNetFeatures.PHYSICS, chunk=1)
    one = featurize(x, fz, input_type="structure", cache=False, progress=False)
    two = featurize(x, fz, input_type="structure", n_jobs=2, cache=False, progress=False)
    pd.testing.assert_frame_equal(one.X, two.X)
    assert np.isfinite(one.X.to_numpy()).all()
    gamma = one.X["chgnet gamma_freq_max (cm-1)"]
    assert gamma["si-squeezed"] > gamma["si"] > gamma["nacl"]  # compressed bonds are stiffer
