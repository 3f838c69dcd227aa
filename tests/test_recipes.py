"""Recipes, the models they introduced (gated, delta), site-role features and the scoreboard writer."""
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Lattice, Structure
from sklearn.base import clone

from assay import Experiment, recipe_config
from assay.features.sites import SiteRoleProperties
from assay.models.delta import DeltaRegressor
from assay.models.gated import ZeroGatedRegressor
from assay.models.zoo import make_model
from assay.run.recipes import RECIPES


def test_recipe_config_per_budget():
    c = recipe_config("steels")
    assert (c.features, c.primary, c.models) == ("fractions", "et", ["dummy", "rf", "et"])
    assert c.search == "none"
    best = recipe_config("steels", "best", n_jobs=2)
    assert best.search == "tpe" and best.search_models == ["et"] and best.n_jobs == 2
    fast = recipe_config("perovskites", "fast")
    assert fast.features == "structure-sites" and fast.primary == "lgbm"
    with pytest.raises(ValueError, match="budget"):
        recipe_config("steels", "huge")
    generic = recipe_config("dielectric")  # no recipe: the generic defaults
    assert generic.features == "auto"


def test_every_recipe_names_known_presets_and_models():
    from assay.features.api import list_presets
    from assay.models.zoo import get_model_spec

    for task, r in RECIPES.items():
        assert r.features in list_presets(), task
        get_model_spec(r.model)
        assert r.baselines[0] == "dummy"


def test_steels_recipe_runs_and_beats_its_baselines(tmp_path):
    cfg = recipe_config("steels", out_dir=str(tmp_path), controls=[], learning_curve=False)
    res = Experiment(cfg).run(progress=False)
    s = res.summary
    assert set(s) == {"dummy", "rf", "et"}
    assert s["et"]["mae"]["mean"] < s["rf"]["mae"]["mean"] < s["dummy"]["mae"]["mean"]


def test_gated_regressor_predicts_exact_zeros():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(800, 3))
    y = np.where(X[:, 0] > 0, 1.0 + X[:, 1] ** 2, 0.0)
    m = make_model("gated", "regression").fit(X[:600], y[:600])
    p = m.predict(X[600:])
    assert m.gated_ and (p == 0).any() and (p > 0).any()
    ungated = clone(m).set_params(min_zero_fraction=1.1).fit(X[:600], y[:600])  # the same regressor on all rows
    assert not ungated.gated_
    assert np.abs(p - y[600:]).mean() < np.abs(ungated.predict(X[600:]) - y[600:]).mean()
    # zeros rare: the gate switches off and it is the regressor alone
    y2 = 1.0 + X[:, 1] ** 2
    m2 = clone(m).fit(X, y2)
    assert not m2.gated_ and np.all(m2.predict_nonzero_proba(X) == 1)


def test_delta_regressor_uses_named_columns_and_degrades_without_names():
    rng = np.random.default_rng(1)
    n = 300
    energy = rng.normal(size=n)
    frac = rng.dirichlet(np.ones(3), size=n)
    noise = rng.normal(size=(n, 2))
    X = np.column_stack([energy, frac, noise])
    y = 3.0 * energy + frac @ np.array([1.0, -2.0, 0.5])
    names = ["chgnet energy_per_atom (eV)", "Sr", "Ti", "O", "x1", "x2"]  # ElementFraction labels are symbols
    from sklearn.tree import DecisionTreeRegressor

    m = DeltaRegressor(model=DecisionTreeRegressor(max_depth=2), feature_names=names).fit(X[:200], y[:200])
    assert list(m.base_cols_) == [0, 1, 2, 3]
    err = np.abs(m.predict(X[200:]) - y[200:]).mean()
    plain = DeltaRegressor(model=DecisionTreeRegressor(max_depth=2)).fit(X[:200], y[:200])
    assert len(plain.base_cols_) == 0
    assert err < 0.05 < np.abs(plain.predict(X[200:]) - y[200:]).mean()
    assert make_model("delta", "regression", feature_names=names).feature_names == names


def test_delta_finds_its_columns_in_the_perovskite_preset():
    # the preset's blocks in order (the chgnet block's labels without loading the model)
    from assay.features.composition import ElementFraction
    from assay.features.structure import StructureFeatures

    labels = ElementFraction().feature_labels() + StructureFeatures(("basic",)).feature_labels() \
        + SiteRoleProperties().feature_labels() + ["chgnet energy_per_atom (eV)", "chgnet max_force (eV/A)"]
    m = DeltaRegressor(feature_names=labels)
    cols = m._base_columns(len(labels))
    assert len(cols) == 118 + 1 and labels.index("chgnet energy_per_atom (eV)") in cols
    assert labels.index("n sites") not in cols


def test_preset_drops_columns_it_does_not_want(monkeypatch):
    from assay.features import api

    monkeypatch.setitem(api._DROP, "fractions", ("He", "Ne"))
    fs = api.featurize(pd.Series(["Fe2O3", "NaCl"]), "fractions", progress=False)
    assert "He" not in fs.X.columns and "Fe" in fs.X.columns and fs.X.shape[1] == 116


def _perovskite(a_el, b_el, x_el, a=4.0):
    return Structure(Lattice.cubic(a), [a_el, b_el, x_el, x_el, x_el],
                     [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])


def test_site_roles_of_an_ideal_perovskite():
    f = SiteRoleProperties()
    s = _perovskite("Sr", "Ti", "O")
    role, dist = f.roles(s)
    assert list(role) == [0, 1, 2, 2, 2]  # Sr on the 12-fold A site, Ti octahedral B, O anions
    v = dict(zip(f.feature_labels(), f.featurize(s)))
    assert v["site A mean Number"] == 38 and v["site B mean Number"] == 22 and v["site X mean Number"] == 8
    assert v["site A-X / sqrt2 B-X distance ratio"] == pytest.approx(1.0)
    # swapping which element sits where swaps the roles: geometry, not the formula, decides
    w = dict(zip(f.feature_labels(), f.featurize(_perovskite("Ti", "Sr", "O"))))
    assert w["site A mean Number"] == 22 and w["site B mean Number"] == 38
    assert len(f.featurize(s)) == len(f.feature_labels())


def test_site_role_properties_are_the_magpie_preset_and_anions_are_structures():
    from assay.features.composition import ElementProperty
    from assay.features.sites import ANIONS, PROPS
    from assay.features.structure import ANIONS as STRUCTURE_ANIONS

    assert PROPS == ElementProperty.from_preset("magpie").features
    assert ANIONS is STRUCTURE_ANIONS


def test_site_roles_note_an_empty_role():
    from assay.features.structure import featurize_structures

    rocksalt = Structure(Lattice.cubic(4.2), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    X, errors, notes = featurize_structures(SiteRoleProperties(), [rocksalt])
    labs = SiteRoleProperties().feature_labels()
    assert not errors
    assert np.isnan(X[0, labs.index("site A mean Number")]) and X[0, labs.index("site B mean Number")] == 11
    assert any("no site in role A" in why for _, _, why in notes)


def test_scoreboard_writer(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import matbench as bench

    d = tmp_path / "matbench"
    d.mkdir()
    rec = {"task": "matbench_steels", "metric": "mae", "mean": 80.0, "std": 5.0, "folds": [80.0] * 5,
           "model": "et", "features": "fractions", "budget": "default", "n_jobs": 1, "wall_s": 30.0,
           "peak_rss_mb": 500.0, "rank": 2, "of": 14, "leader": "TPOT-Mat", "leader_mean": 79.9468,
           "baselines": {"dummy": 229.7, "rf": 95.0}, "fresh_features": True}
    (d / "matbench_steels.json").write_text(json.dumps(rec))
    # expt_gap's target is strict (< Darwin's 0.2865): equal to it is a miss; 25 min is over its 20.
    gap = {**rec, "task": "matbench_expt_gap", "mean": 0.2865, "std": 0.01, "folds": [0.2865] * 5, "wall_s": 1500.0,
           "leader": "Darwin", "leader_mean": 0.2865, "baselines": {"rf": 0.38}}
    (d / "matbench_expt_gap.json").write_text(json.dumps(gap))
    board = bench.write_scoreboard(tmp_path)
    assert list(board.columns[:5]) == ["task", "metric", "mean", "std", "wall_s"]
    md = (tmp_path / "SCOREBOARD.md").read_text()
    steels = next(line for line in md.splitlines() if line.startswith("| matbench_steels"))
    gap_line = next(line for line in md.splitlines() if line.startswith("| matbench_expt_gap"))
    assert "80.0000 ± 5.0000** ❌" in steels and "≤ 79.66" in steels and "0.5 min (✅ ≤ 10)" in steels
    assert "0.2865 ± 0.0100** ❌" in gap_line and "< 0.2865" in gap_line and "25.0 min (❌ ≤ 20)" in gap_line
    assert pd.read_csv(tmp_path / "SCOREBOARD.csv").task.tolist() == ["matbench_expt_gap", "matbench_steels"]
