"""``assay screen`` on a small finished run: ranked candidates with intervals, domain flags and
reasons; unfeaturisable candidates refused by row; substitutions that are new and sensible."""
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from assay import Experiment
from assay.cli import app
from assay.data.chemistry import composition_key
from assay.data.loading import load_task
from assay.discovery.candidates import charge_balanced, similar_elements, substitutions
from assay.discovery.screen import screen
from assay.errors import AssayError

runner = CliRunner()


@pytest.fixture(scope="module")
def steels(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("screen")
    ds = load_task("steels")
    df = pd.DataFrame({"formula": ds.inputs.iloc[:80].values,
                       "yield strength": ds.target.iloc[:80].values})
    df.to_csv(tmp / "steels80.csv", index=False)
    run = Experiment(data=str(tmp / "steels80.csv"), target="yield strength", models=["et"],
                     controls=[], learning_curve=False, n_folds=3,
                     out_dir=str(tmp / "runs")).run(progress=False)
    return tmp, run, df


def test_screen_ranks_flags_and_refuses_by_row(steels):
    tmp, run, df = steels
    cand = pd.DataFrame({"formula": [df["formula"][5], "Fe0.7Cr0.18Ni0.1U0.02", "notaformula",
                                     "Fe0.8Co0.1Ni0.1", ""]})
    cand.to_csv(tmp / "cand.csv", index=False)
    res = screen(run.path, tmp / "cand.csv", goal="max", n=3, acquisition="ucb")
    r = res.ranked
    assert list(r["rank"]) == [1, 2, 3] and r["score"].is_monotonic_decreasing
    assert set(r["domain"]) <= {"in", "OUT"} and (r["lower 90%"] < r["upper 90%"]).all()
    assert np.allclose(r["score"], r["predicted yield strength"] + 2 * r["uncertainty"])
    u = r[r["input"].str.contains("U0.02")].iloc[0]
    assert u["domain"] == "OUT" and "unseen element U" in u["reason"]
    known = r[r["row"] == 1].iloc[0]
    assert known["known value"] == pytest.approx(df["yield strength"][5])
    assert "already in the data" in known["reason"]
    assert list(res.refused["row"]) == [3, 5]
    assert all("not featurised" in why for why in res.refused["reason"])
    for name in ("ranked.csv", "refused.csv", "screen.json", "pareto.png"):
        assert (run.path / "screen" / name).is_file(), name
    info = json.loads((run.path / "screen" / "screen.json").read_text())
    assert info["n_ranked"] == 3 and info["n_refused"] == 2 and len(info["top"]) == 3
    # minimising reverses the order of the predictions
    lo = screen(run.path, tmp / "cand.csv", goal="min", acquisition="prediction", write=False)
    assert lo.ranked["predicted yield strength"].is_monotonic_increasing
    pd.DataFrame({"formula": ["notaformula", "Xq2"]}).to_csv(tmp / "bad.csv", index=False)
    with pytest.raises(AssayError, match="file row 1: 'notaformula'"):
        screen(run.path, tmp / "bad.csv", write=False)


def test_screen_cli_generates_new_substitutions(steels):
    tmp, run, df = steels
    r = runner.invoke(app, ["screen", str(run.path), "--generate", "substitutions", "--n", "5",
                            "--acquisition", "ei", "--max-generated", "40", "-q"])
    assert r.exit_code == 0, r.output
    ranked = pd.read_csv(run.path / "screen" / "ranked.csv")
    assert 0 < len(ranked) <= 40 and ranked["source"].str.startswith("substitution").all()
    known = {composition_key(f) for f in df["formula"]}
    assert not any(composition_key(f) in known for f in ranked["input"])
    seen = {el for f in df["formula"] for el, _ in composition_key(f)}
    assert all({el for el, _ in composition_key(f)} <= seen for f in ranked["input"])
    assert (run.path / "screen" / "pareto.png").is_file()


def test_substitution_rules():
    assert "Co" in dict(similar_elements("Fe")) and "S" in dict(similar_elements("O"))
    assert "Ca" not in dict(similar_elements("Na"))  # no common oxidation state
    assert charge_balanced_ok()
    gen = substitutions(["NaCl", "Fe2O3", "KBr"], max_candidates=50, new_elements=True)
    assert {"KCl", "NaBr"} <= {f.replace("1", "") for f in gen["formula"]}
    assert not gen["formula"].isin(["NaCl", "Fe2O3", "KBr"]).any()
    # the parent Fe2O3 is charge balanced, so every child of it must be
    assert gen.loc[gen["parent"] == "Fe2O3", "charge_balanced"].all()
    assert substitutions(["NaCl", "KBr"], new_elements=False)["formula"].str.replace("1", "").isin(
        ["KCl", "NaBr"]).all()


def charge_balanced_ok():
    from pymatgen.core import Composition

    return (charge_balanced(Composition("Fe2O3")) is True
            and charge_balanced(Composition("NaO3")) is False
            and charge_balanced(Composition("Fe0.7Cr0.3")) is None)
