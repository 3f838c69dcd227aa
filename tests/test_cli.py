import pandas as pd
from typer.testing import CliRunner

from assay.cli import app

runner = CliRunner()


def test_tasks_lists_all():
    r = runner.invoke(app, ["tasks"])
    assert r.exit_code == 0
    for name in ["expt_gap", "phonons", "mp_e_form", "glass"]:
        assert name in r.output


def test_run_runs_and_predict(tmp_path):
    out = tmp_path / "runs"
    r = runner.invoke(app, ["run", "steels", "--models", "dummy,lgbm", "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    run_dir = next(p for p in out.iterdir() if p.is_dir())
    r = runner.invoke(app, ["runs", "--out", str(out)])
    assert r.exit_code == 0 and run_dir.name in r.output
    new = tmp_path / "new.csv"
    pd.DataFrame({"formula": ["Fe0.7Cr0.18Ni0.1C0.02", "Fe0.98C0.02"]}).to_csv(new, index=False)
    o = tmp_path / "pred.csv"
    r = runner.invoke(app, ["predict", str(run_dir), str(new), "-o", str(o)])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(o)
    assert len(df) == 2 and df.iloc[:, 1].between(500, 3000).all()


def test_unknown_task_is_a_clear_error(tmp_path):
    r = runner.invoke(app, ["run", "nonsense_task", "--out", str(tmp_path)])
    assert r.exit_code == 2
    assert "Unknown Matbench task" in r.output


def test_unknown_model_is_a_clear_error(tmp_path):
    r = runner.invoke(app, ["run", "steels", "--models", "dummy,xx", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "Unknown model" in r.output


def test_run_options_are_kept_in_config_and_config_reruns(tmp_path):
    import tomllib

    out = tmp_path / "runs"
    args = ["run", "steels", "--models", "dummy,ridge", "--search", "random", "--trials", "2",
            "--controls", "scrambled-target", "--no-learning-curve", "--extra-splits", "group",
            "--out", str(out), "-q"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    run_dir = next(p for p in out.iterdir() if p.is_dir())
    cfg = tomllib.loads((run_dir / "config.toml").read_text())
    assert cfg["search"] == "random" and cfg["search_trials"] == 2
    assert cfg["controls"] == ["scrambled-target"] and cfg["learning_curve"] is False
    assert cfg["extra_splits"] == ["group"]
    for name in ["comparison.json", "extra_splits.json", "search/ridge/fold_0.json",
                 "controls/ridge/scrambled-target/fold_0.json", "splits/group/folds.json"]:
        assert (run_dir / name).is_file(), name
    assert not (run_dir / "learning_curve.json").exists()
    # the kept config describes the run fully: running it again lands in the same folder
    before = (run_dir / "scores.csv").read_text()
    r = runner.invoke(app, ["run", str(run_dir / "config.toml"), "-q"])
    assert r.exit_code == 0, r.output
    assert [p.name for p in out.iterdir() if p.is_dir()] == [run_dir.name]
    assert (run_dir / "scores.csv").read_text() == before


def test_models_and_splits_commands():
    r = runner.invoke(app, ["models"])
    assert r.exit_code == 0 and "lgbm" in r.output and "stack" in r.output
    r = runner.invoke(app, ["splits"])
    assert r.exit_code == 0 and "loco" in r.output


def test_bad_search_is_a_clear_error(tmp_path):
    r = runner.invoke(app, ["run", "steels", "--search", "psychic", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "search must be one of" in r.output


def test_recipes_command_and_recipe_run(tmp_path):
    r = runner.invoke(app, ["recipes"])
    assert r.exit_code == 0 and "matbench_perovskites" in r.output and "delta" in r.output
    out = tmp_path / "runs"
    r = runner.invoke(app, ["run", "steels", "--budget", "fast", "--controls", "none", "--no-learning-curve",
                            "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    cfg = next(out.glob("steels-*/config.toml")).read_text()
    assert 'features = "fractions"' in cfg and 'primary_model = "lgbm"' in cfg
    r = runner.invoke(app, ["run", "steels", "--budget", "huge", "--out", str(out), "-q"])
    assert r.exit_code != 0 and "budget" in r.output
