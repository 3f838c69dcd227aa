"""Several sources: overlap and conflicts found and logged, the merge policy applied, errors per
source reported, leave-one-source-out folds, and the checklist's item 2c answered from evidence."""
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from assay.cli import app
from assay.data.errors import InvalidDataError
from assay.data.sources import load_sources

A = pd.DataFrame({"formula": ["NaCl", "KCl", "MgO", "CaO", "ZnO", "GaN", "AlN", "SiC", "BN", "LiF"],
                  "gap": [8.5, 8.4, 7.8, 7.1, 3.4, 3.4, 6.2, 2.4, 6.0, 13.6]})
B = pd.DataFrame({"formula": ["NaCl", "MgO", "TiO2", "ZnS", "CdS", "GaAs", "InP", "Si", "Ge", "ZnO"],
                  "gap": [8.5, 7.0, 3.2, 3.7, 2.4, 1.4, 1.3, 1.1, 0.7, 3.3]})


@pytest.fixture
def two(tmp_path):
    A.to_csv(tmp_path / "a.csv", index=False)
    B.to_csv(tmp_path / "b.csv", index=False)
    return tmp_path


@pytest.mark.parametrize("policy,n", [("keep", 20), ("mean", 17), ("prefer:b", 17)])
def test_known_overlap_and_conflict_are_logged(two, policy, n):
    ds = load_sources([two / "a.csv", two / "b.csv"], "gap", policy=policy)
    m = ds.source["merge"]
    assert m["n_shared"] == 3  # NaCl, MgO, ZnO
    pair = m["pairs"][0]
    assert pair["sources"] == ["a", "b"] and pair["n_shared"] == 3
    assert pair["max_abs_difference"] == pytest.approx(0.8)  # MgO: 7.8 vs 7.0
    assert pair["largest"][0]["material"] == "MgO"
    assert len(ds) == n and m["n_rows_after"] == n
    if policy == "mean":
        mgo = ds.target[[i for i, f in zip(ds.ids, ds.inputs) if f == "MgO"]]
        assert list(mgo) == [pytest.approx(7.4)]
    if policy == "prefer:b":
        assert "a:row-3" not in set(ds.ids) and "b:row-2" in set(ds.ids)  # MgO from b only


def test_different_units_are_refused(two):
    A.assign(unit="eV").to_csv(two / "c.csv", index=False)
    B.assign(gap=B["gap"] * 1000, unit="meV").to_csv(two / "d.csv", index=False)
    with pytest.raises(InvalidDataError, match="different units: c: eV, d: meV"):
        load_sources([two / "c.csv", two / "d.csv"], "gap")
    with pytest.raises(InvalidDataError, match="merge policy"):
        load_sources([two / "a.csv", two / "b.csv"], "gap", policy="prefer:nosuch")


def test_run_on_two_sources_reports_error_per_source_and_leave_one_source_out(two):
    r = CliRunner().invoke(app, ["run", str(two / "a.csv"), str(two / "b.csv"), "--target", "gap",
                                 "--models", "dummy,ridge", "--split", "sources", "--out", str(two / "runs"),
                                 "--controls", "none", "--no-learning-curve", "-q"])
    assert r.exit_code == 0, r.output
    run = next((two / "runs").glob("a+more-*"))
    folds = json.loads((run / "folds.json").read_text())
    assert folds["n_folds"] == 2 and folds["split"] == "column:source"
    per = json.loads((run / "sources.json").read_text())
    assert set(per["per_source"]["ridge"]) == {"a", "b"}
    assert per["per_source"]["ridge"]["a"]["n"] == 10
    assert json.loads((run / "dataset.json").read_text())["source"]["merge"]["n_shared"] == 3
    r = CliRunner().invoke(app, ["report", str(run), "--no-notebook", "--no-submission"])
    assert r.exit_code == 0, r.output
    html = (run / "report.html").read_text()
    assert "several sources" in html and "policy <code>keep</code>" in html
    assert "Several sources</h3>" in html and "Test error of the primary model per source" in html


def test_report_shows_learn_and_screen_when_they_were_run(tmp_path):
    from assay.data.loading import load_task

    ds = load_task("steels")
    pd.DataFrame({"formula": list(ds.inputs[:90]), "yield": list(ds.target[:90])}).to_csv(
        tmp_path / "s.csv", index=False)
    cli = CliRunner()
    r = cli.invoke(app, ["run", str(tmp_path / "s.csv"), "--target", "yield", "--models", "dummy,et",
                         "--out", str(tmp_path / "runs"), "--controls", "none", "--no-learning-curve", "-q"])
    assert r.exit_code == 0, r.output
    run = next((tmp_path / "runs").glob("s-*"))
    r = cli.invoke(app, ["learn", str(run), "--strategies", "random,uncertainty", "--initial", "20",
                         "--batch", "5", "--rounds", "2", "--repeats", "1", "-q"])
    assert r.exit_code == 0, r.output
    pd.DataFrame({"formula": ["Fe0.8Ni0.2", "Fe0.7Co0.3", "Fe0.9Mo0.1"]}).to_csv(tmp_path / "c.csv", index=False)
    r = cli.invoke(app, ["screen", str(run), str(tmp_path / "c.csv"), "--goal", "max", "-q"])
    assert r.exit_code == 0, r.output
    r = cli.invoke(app, ["report", str(run), "--no-notebook", "--no-submission"])
    assert r.exit_code == 0, r.output
    html = (run / "report.html").read_text()
    assert "Active learning, simulated</h3>" in html and "Next experiments (screening)</h3>" in html


def test_config_toml_data_tables(two):
    from assay import RunConfig

    p = two / "c.toml"
    p.write_text(f'target = "gap"\nmerge = "mean"\n\n[[data]]\npath = "{two / "a.csv"}"\n\n'
                 f'[[data]]\npath = "{two / "b.csv"}"\n')
    cfg = RunConfig.from_toml(p)
    assert cfg.data == [str(two / "a.csv"), str(two / "b.csv")] and cfg.merge == "mean"
