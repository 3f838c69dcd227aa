"""The crystal-graph featuriser and network: layout and labels, estimator checks, learning on a tiny
periodic data set, seeds, the zoo entry, and clear errors for rows that are not graphs."""
import importlib.util

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from sklearn.utils.estimator_checks import parametrize_with_checks

from assay.features.graph import GRAPH_PREFIX, CrystalGraph
from assay.features.presets import list_presets, preset_featurizers
from assay.models.graph import GraphNetClassifier, GraphNetRegressor, graph_layout

HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
TINY = dict(hidden=16, n_conv=2, n_gaussians=8, max_epochs=20, batch_size=64, n_ensemble=1)


def _fcc(a):
    return Lattice([[0, a / 2, a / 2], [a / 2, 0, a / 2], [a / 2, a / 2, 0]])


def _rocksalt(a=5.64, el=("Na", "Cl")):
    return Structure(_fcc(a), list(el), [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_layout_labels_and_neighbours():
    g = CrystalGraph(max_atoms=4, n_neighbours=12)
    cu = Structure(_fcc(3.6), ["Cu"], [[0, 0, 0]])
    nacl = _rocksalt()
    perov = Structure(Lattice.cubic(3.9), ["Sr", "Ti", "O", "O", "O"],
                      [[0, 0, 0], [.5, .5, .5], [.5, .5, 0], [.5, 0, .5], [0, .5, .5]])
    labels = g.feature_labels()
    assert len(labels) == 1 + 4 * 25 and labels[:3] == ["graph n atoms", f"{GRAPH_PREFIX}0 Z", f"{GRAPH_PREFIX}0 nbr 0 index"]
    zc, ic, dc, other = graph_layout(labels, len(labels))
    assert ic.shape == dc.shape == (4, 12) and len(other) == 0
    X = np.array([g.featurize(s) for s in (cu, nacl)])
    # fcc Cu: one atom, 12 neighbours, all images of itself at a/sqrt(2)
    assert X[0, 0] == 1 and X[0, zc[0]] == 29 and X[0, zc[1]] == 0
    assert (X[0, ic[0]] == 0).all() and np.allclose(X[0, dc[0]], 3.6 / np.sqrt(2))
    assert (X[0, ic[1]] == -1).all() and (X[0, dc[1]] == 0).all()  # padding
    # rock salt: Na's 6 nearest are Cl (site 1) at a/2, then 12 Na at a/sqrt(2) (sorted by distance)
    assert list(X[1, zc[:2]]) == [11, 17]
    assert (X[1, ic[0][:6]] == 1).all() and np.allclose(X[1, dc[0][:6]], 2.82)
    assert (X[1, ic[0][6:]] == 0).all() and np.allclose(X[1, dc[0][6:]], 5.64 / np.sqrt(2))
    # too many atoms: a NaN row with the reason, not an exception
    res = CrystalGraph(max_atoms=4).featurize_batch([nacl, perov])
    assert np.isfinite(res.X[0]).all() and np.isnan(res.X[1]).all() and "5 sites" in res.errors[1]
    assert "graph" in list_presets() and isinstance(preset_featurizers("graph", "structure")[0], CrystalGraph)


def _periodic_data(n=160, seed=0):
    """Rock-salt cells of random cation/anion pairs and lattice constants; the target depends on both
    elements and on the bond length, as a 'stiffness' would."""
    rng = np.random.default_rng(seed)
    cats, ans = ["Li", "Na", "K", "Mg", "Ca", "Sr"], ["F", "Cl", "Br", "O", "S"]
    g = CrystalGraph(max_atoms=4, n_neighbours=8)
    rows, y = [], []
    for _ in range(n):
        c, a = rng.choice(cats), rng.choice(ans)
        lat = rng.uniform(4.0, 6.5)
        s = _rocksalt(lat, (c, a))
        rows.append(g.featurize(s))
        y.append(float(s[0].specie.X * 2 - s[1].specie.X + 8.0 / lat))
    return np.array(rows), np.array(y), g.feature_labels()


if HAS_TORCH:
    CHECKED = [GraphNetRegressor(**TINY), GraphNetClassifier(**TINY)]
else:  # pragma: no cover
    CHECKED = []


@needs_torch
@parametrize_with_checks(CHECKED)
def test_sklearn_compatible_estimator(estimator, check):
    """Arbitrary numeric X carries no graph columns: the model is its MLP head on the columns."""
    check(estimator)


@needs_torch
def test_graph_network_learns_a_periodic_target_and_repeats():
    X, y, names = _periodic_data()
    kw = dict(feature_names=names, **{**TINY, "max_epochs": 40, "lr": 1e-2, "batch_size": 32})
    m = GraphNetRegressor(**kw).fit(X[:120], y[:120])
    assert m.layout_ is not None and len(m.layout_[3]) == 0  # all columns are graph columns
    mae = np.mean(np.abs(m.predict(X[120:]) - y[120:]))
    mean_mae = np.mean(np.abs(y[120:] - y[:120].mean()))
    assert mae < 0.15 * mean_mae, (mae, mean_mae)
    short = {**kw, "max_epochs": 3}
    once, again, other = (GraphNetRegressor(**{**short, "random_state": s}).fit(X[:120], y[:120]).predict(X[120:])
                          for s in (0, 0, 1))
    assert np.array_equal(once, again) and not np.array_equal(once, other)


@needs_torch
def test_zoo_entry_extra_columns_and_bad_rows():
    from assay.models.zoo import get_model_spec, make_model

    X, y, names = _periodic_data(n=60, seed=1)
    extra = np.column_stack([X, y + 0.01])  # a non-graph column joins the head
    est = make_model("graph", "regression", seed=0, feature_names=names + ["energy"], max_epochs=3, n_ensemble=1)
    assert isinstance(est, GraphNetRegressor) and get_model_spec("graph").family == "neural"
    est.fit(extra, y)
    assert list(est.layout_[3]) == [extra.shape[1] - 1]
    bad = extra[:2].copy()
    bad[0, 1:-1] = np.nan  # a structure the featuriser could not encode: an empty graph
    assert np.isfinite(est.predict(bad)).all()
    bad[1, names.index(f"{GRAPH_PREFIX}0 Z")] = 200
    with pytest.raises(ValueError, match="row 1: graph column atomic number"):
        est.predict(bad)
    clf = make_model("graph", "classification", feature_names=names, max_epochs=3, n_ensemble=1)
    assert np.allclose(clf.fit(X, (y > np.median(y)).astype(int)).predict_proba(X).sum(1), 1.0)
    with pytest.warns(UserWarning, match="no 'graph atom"):
        GraphNetRegressor(feature_names=[f"c{i}" for i in range(3)], max_epochs=2, n_ensemble=1).fit(X[:, :3], y)
