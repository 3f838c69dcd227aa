"""Structure descriptors: values checked on textbook structures and against matminer."""
import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from assay.features.structure import MatminerAdaptor, StructureFeatures, featurize_structures


def rocksalt():
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def perovskite():
    return Structure(Lattice.cubic(3.905), ["Sr", "Ti", "O", "O", "O"],
                     [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])


def feats(s, groups=StructureFeatures.ALL):
    f = StructureFeatures(groups)
    v, notes = f.featurize_with_notes(s)
    return dict(zip(f.feature_labels(), v)), notes


def test_rocksalt_values():
    d, notes = feats(rocksalt())
    assert d["spacegroup number"] == 225 and d["crystal system"] == 7
    assert d["mean coordination number"] == 6 and d["std coordination number"] == 0
    assert d["min bond length"] == pytest.approx(5.64 / 2)
    assert d["n sites"] == 8 and d["volume per atom"] == pytest.approx(5.64 ** 3 / 8)
    assert d["ewald energy per atom"] < 0  # Na+ Cl- guessed, Madelung energy is negative
    assert np.isnan(d["tolerance factor"]) and notes["tolerance factor"] == "not an ABX3 composition"
    mu = 22.99 * 35.45 / (22.99 + 35.45)
    assert d["mean bond stiffness"] == pytest.approx(1 / (mu * (5.64 / 2) ** 2), rel=1e-3)


def test_perovskite_factors():
    d, notes = feats(perovskite())
    assert 0.95 < d["tolerance factor"] < 1.05  # SrTiO3 is the ideal cubic perovskite
    assert 0.35 < d["octahedral factor"] < 0.5
    assert d["spacegroup number"] == 221
    assert "tolerance factor" not in notes


def test_ewald_nan_with_reason_when_no_oxidation_states():
    s = Structure(Lattice.cubic(4.0), ["Na", "Cl", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]])
    d, notes = feats(s)
    assert np.isnan(d["ewald energy per atom"]) and "oxidation" in notes["ewald energy per atom"]


def test_density_features_match_matminer(phonon_structures):
    from matminer.featurizers.structure import DensityFeatures

    ref = DensityFeatures()
    X, errors, _ = featurize_structures(StructureFeatures(("basic",)), phonon_structures)
    assert not errors
    for s, row in zip(phonon_structures, X):
        dens, vpa, _ = ref.featurize(s)
        assert row[0] == pytest.approx(dens) and row[1] == pytest.approx(vpa)


def test_sine_coulomb_matches_matminer(phonon_structures):
    from matminer.featurizers.structure import SineCoulombMatrix

    ref = SineCoulombMatrix(flatten=False)
    for s in list(phonon_structures)[:10]:
        ev = np.sort(np.linalg.eigvalsh(ref.featurize(s)[0]))
        d, _ = feats(s, ("coulomb",))
        assert d["max sine coulomb eigenvalue"] == pytest.approx(ev.max(), rel=1e-6)
        assert d["mean sine coulomb eigenvalue"] == pytest.approx(ev.mean(), rel=1e-6)


def test_parallel_equals_serial_and_errors_reported(phonon_structures):
    f = StructureFeatures()
    items = list(phonon_structures[:10]) + ["not a structure"]
    X1, e1, _ = featurize_structures(f, items, n_jobs=1)
    X2, e2, _ = featurize_structures(f, items, n_jobs=2)
    np.testing.assert_allclose(X1, X2, equal_nan=True)
    assert list(e1) == list(e2) == [10] and np.isnan(X1[10]).all()
    assert np.isfinite(X1[:10]).all()


def test_matminer_adaptor_by_name(phonon_structures):
    from matminer.featurizers.structure import DensityFeatures

    ad = MatminerAdaptor("matminer:DensityFeatures")
    items = list(phonon_structures[:5]) + [None]
    X, errors = ad.featurize_many_with_errors(items, n_jobs=1)
    assert list(errors) == [5] and np.isnan(X[5]).all()
    ref = DensityFeatures()
    np.testing.assert_allclose(X[0], ref.featurize(phonon_structures.iloc[0]))
    # non-numeric outputs (crystal system names) are reported per row, not crashed on
    X2, err2 = MatminerAdaptor("GlobalSymmetryFeatures").featurize_many_with_errors(items[:2])
    assert sorted(err2) == [0, 1] and "float" in err2[0]
    with pytest.raises(KeyError):
        MatminerAdaptor("NoSuchFeaturizer").feature_labels()
