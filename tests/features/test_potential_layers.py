"""Potential-layer features (CHGNet, SevenNet-0) and the in-fold reducer (BlockPCA, ReducedModel)."""
import importlib.util

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Lattice, Structure
from sklearn.linear_model import Ridge
from sklearn.utils.estimator_checks import check_estimator

from assay.features import featurize, list_presets
from assay.features import potential_layers as PL
from assay.features.reduce import BlockPCA
from assay.features.sites import SiteRoleProperties
from assay.models.reduced import ReducedModel
from assay.models.zoo import make_model

HAVE_CHGNET = importlib.util.find_spec("chgnet") is not None and importlib.util.find_spec("torch") is not None
needs_chgnet = pytest.mark.skipif(not HAVE_CHGNET, reason="assay[pretrained] (chgnet, torch) not installed")


def _nacl():
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]]).get_primitive_structure()


def _srtio3():
    return Structure(Lattice.cubic(3.905), ["Sr", "Ti", "O", "O", "O"],
                     [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])


def _si():
    return Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.431), ["Si"], [[0, 0, 0]]).get_primitive_structure()


def _strained():
    s = _srtio3()
    s.scale_lattice(62.0)
    return s


STRUCTURES = [_nacl(), _srtio3(), _si(), _strained()]


class FakeLayers(PL.PotentialLayers):
    """Known per-atom 'layers' (atomic number x block, channel), so pooling can be checked exactly."""

    prefix = "fake-layers"
    n_blocks = 2
    width = 3

    def model_identity(self):
        return {"name": "fake"}

    def _atom_layers(self, structures):
        return [np.array([[[sp.Z * (b + 1) + c for c in range(3)] for b in range(2)] for sp in s.species], float)
                for s in structures]


def test_pooling_per_cell_and_per_role_is_exact():
    fz = FakeLayers(("cell", "roles"), ("mean", "max"), chunk=2)
    res = fz.featurize_batch(STRUCTURES)
    labels = fz.feature_labels()
    assert res.X.shape == (4, 2 * 4 * 2 * 3) == (4, len(labels)) and len(set(labels)) == len(labels)
    assert labels[0] == "fake-layers L0 cell mean 0" and "fake-layers L1 B max 2" in labels
    X = pd.DataFrame(res.X, columns=labels)
    # SrTiO3: A = Sr (38), B = Ti (22), anion O (8); block 1 doubles the atomic number
    assert X.loc[1, "fake-layers L0 A mean 0"] == 38 and X.loc[1, "fake-layers L0 B mean 1"] == 23
    assert X.loc[1, "fake-layers L1 X mean 0"] == 16 and X.loc[1, "fake-layers L1 cell max 2"] == 78
    assert X.loc[1, "fake-layers L0 cell mean 0"] == pytest.approx((38 + 22 + 3 * 8) / 5)
    role, _ = SiteRoleProperties().roles(STRUCTURES[1])
    assert list(role) == [0, 1, 2, 2, 2]
    # NaCl has no A site: NaN, with the reason in the notes; no row fails as a whole
    assert np.isnan(X.loc[0, "fake-layers L0 A mean 0"]) and X.loc[0, "fake-layers L0 B mean 0"] == 11
    assert (0, "fake-layers L0 A mean 0", "no site in role A") in res.notes
    assert res.errors == [None] * 4


def test_bad_rows_fail_alone_and_options_are_checked():
    res = FakeLayers().featurize_batch([STRUCTURES[0], "not a structure", STRUCTURES[2]])
    assert res.errors[0] is None and res.errors[2] is None and "pymatgen Structures" in res.errors[1]
    assert np.isnan(res.X[1]).all() and np.isfinite(res.X[[0, 2]]).all()
    with pytest.raises(ValueError, match="pooling must be some of"):
        FakeLayers(("atoms",))


def test_n_jobs_do_not_change_the_values():
    fz = FakeLayers(("cell", "roles"), chunk=1)
    one = fz.featurize_batch(STRUCTURES, n_jobs=1).X
    two = fz.featurize_batch(STRUCTURES, n_jobs=2).X
    assert np.array_equal(one, two, equal_nan=True)


@needs_chgnet
def test_chgnet_layers_shapes_determinism_and_cache():
    fz = PL.ChgnetLayers(("cell", "roles"), chunk=2, batch_size=2)
    a = fz.featurize_batch(STRUCTURES[:3])
    assert a.X.shape == (3, 4 * 4 * 64) and a.errors == [None] * 3
    X = pd.DataFrame(a.X, columns=fz.feature_labels())
    assert np.isfinite(X.filter(like=" cell ").to_numpy()).all()
    assert np.isfinite(X.loc[1].to_numpy()).all()  # SrTiO3 has every role
    assert not np.allclose(X["chgnet-layers L0 cell mean 0"], X.loc[0, "chgnet-layers L0 cell mean 0"])
    assert np.array_equal(a.X, fz.featurize_batch(STRUCTURES[:3]).X, equal_nan=True)  # deterministic
    one_by_one = PL.ChgnetLayers(("cell", "roles"), chunk=1, batch_size=1).featurize_batch(STRUCTURES[:3]).X
    np.testing.assert_allclose(one_by_one, a.X, atol=1e-4)  # batching changes float32 rounding only
    s = pd.Series(STRUCTURES[:3])
    first = featurize(s, [PL.ChgnetLayers(("cell",))], input_type="structure")
    again = featurize(s, [PL.ChgnetLayers(("cell",))], input_type="structure")
    assert not first.from_cache and again.from_cache
    pd.testing.assert_frame_equal(first.X, again.X)
    assert PL.ChgnetLayers(("cell",)).cache_params() != PL.ChgnetLayers(("roles",)).cache_params()


def test_presets_are_listed():
    p = list_presets()
    assert {"chgnet-layers", "chgnet-layers-sites", "sevennet-layers", "sevennet-layers-sites"} <= set(p)
    assert "GPL" in p["sevennet-layers"]


def test_sevennet_layers_shapes():
    pytest.importorskip("sevenn")
    fz = PL.SevennetLayers(("cell", "roles"), batch_size=2)
    res = fz.featurize_batch(STRUCTURES[:2])
    assert res.X.shape == (2, 5 * 4 * 128) and res.errors == [None, None]
    X = pd.DataFrame(res.X, columns=fz.feature_labels())
    assert np.isfinite(X.loc[1].to_numpy()).all() and np.isfinite(X.filter(like=" cell ").to_numpy()).all()


# --- the reducer ---------------------------------------------------------------------------------
def _table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    cols = ["Fe", "n sites"] + [f"chgnet-layers L0 cell mean {i}" for i in range(12)] + ["sevennet-layers L0 A mean 0",
                                                                                         "sevennet-layers L0 A mean 1"]
    X = rng.standard_normal((n, len(cols)))
    X[3, 2:14] = np.nan  # a row the block has no value for
    X[5, 4] = np.nan
    return pd.DataFrame(X, columns=cols), X[:, 0] + rng.standard_normal(n) * 0.1


@pytest.mark.parametrize("est", [BlockPCA(), ReducedModel(BlockPCA(), Ridge())], ids=["BlockPCA", "ReducedModel"])
def test_check_estimator(est):
    failed = [r for r in check_estimator(est, on_fail=None) if r["status"] == "failed"]
    assert not failed, [(r["check_name"], str(r["exception"])[:200]) for r in failed]


def test_block_pca_reduces_each_block_and_passes_the_rest():
    X, _ = _table()
    red = BlockPCA(("chgnet-layers", "sevennet-layers"), n_components=3, feature_names=list(X.columns)).fit(X.to_numpy())
    T = red.transform(X.to_numpy())
    names = list(red.get_feature_names_out())
    assert names == ["Fe", "n sites", "chgnet-layers pc1", "chgnet-layers pc2", "chgnet-layers pc3",
                     "sevennet-layers pc1", "sevennet-layers pc2"]
    np.testing.assert_array_equal(T[:, :2], X.to_numpy()[:, :2])
    assert np.isnan(T[3, 2:5]).all() and np.isfinite(T[5]).all()
    with pytest.raises(ValueError, match="needs column labels"):
        BlockPCA(("chgnet-layers",)).fit(X.to_numpy())


def test_block_pca_is_fitted_on_the_training_rows_only():
    X, _ = _table(80)
    A = X.to_numpy()
    train, test = A[:50], A[50:].copy()
    red = BlockPCA(("chgnet-layers",), n_components=4, feature_names=list(X.columns)).fit(train)
    before = red.transform(train)
    test[:, 2:14] *= 1e3  # wild test rows cannot move what was learned from the training rows
    np.testing.assert_array_equal(red.transform(train), before)
    again = BlockPCA(("chgnet-layers",), n_components=4, feature_names=list(X.columns)).fit(train)
    np.testing.assert_array_equal(again.transform(test), red.transform(test))
    block = train[:, 2:14]
    np.testing.assert_allclose(red.models_[0][0], np.nanmean(block[~np.isnan(block).all(1)], axis=0))


def test_lgbm_pca_zoo_entry_uses_the_labels():
    X, y = _table()
    est = make_model("lgbm-pca", "regression", seed=0, feature_names=list(X.columns), model__n_estimators=20)
    est.fit(X.to_numpy(), y)
    assert est.reducer_.n_features_out_ == 2 + 12 + 2  # blocks narrower than 16 keep all their components
    assert est.predict(X.to_numpy()).shape == (len(X),)
    d = make_model("delta-pca", "regression", seed=0, feature_names=list(X.columns), model__model__n_estimators=20)
    d.fit(X.to_numpy(), y)
    assert "Fe" in d.model_.feature_names and "chgnet-layers pc1" in d.model_.feature_names


def _omp_threads():
    import os

    return os.environ.get("OMP_NUM_THREADS")


def test_feature_workers_start_with_capped_thread_pools():
    from joblib import Parallel, delayed

    from assay.features.pipeline import _capped_workers

    with _capped_workers(3):
        assert Parallel(n_jobs=2)(delayed(_omp_threads)() for _ in range(2)) == ["3", "3"]
