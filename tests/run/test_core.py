"""The run core: identity from config + data, safe names, resumable and self-healing fold files,
failure states, type-checked configs, and scores that never depend on the number of processes."""
import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest

from assay import Experiment, RunConfig, RunFolder, load_run
from assay.errors import AssayError, RunFolderError
from assay.run.config import ConfigError
from assay.run.recipes import RECIPES, recipe_config
from assay.store.database import RunDatabase

from run_helpers import SHARED, subset_task_file

FAST = dict(controls=[], learning_curve=False, n_folds=3)


def _scores(res):
    return res.scores.drop(columns="fit_seconds")


@pytest.mark.parametrize("task", list(RECIPES))
def test_every_recipe_gives_identical_scores_with_one_and_two_processes(task, tmp_path):
    """-j 1 and -j 2 give bit-identical scores on every recipe (CHGNet's included): processes
    parallelise, threads stay at one per process, and each fold is seeded on its own."""
    # CHGNet's Gamma phonons cost about a CPU-second per structure: the phonons recipe gets few rows
    n = {"matbench_perovskites": 60, "matbench_phonons": 12}.get(task, 90)
    data = subset_task_file(task, n, tmp_path)
    if data is None:
        pytest.skip(f"{task} data not available")
    cfg = recipe_config(task, data=str(data), split="kfold", **FAST)
    a = Experiment(cfg.replace(out_dir=str(tmp_path / "a"), n_jobs=1)).run(progress=False)
    b = Experiment(cfg.replace(out_dir=str(tmp_path / "b"), n_jobs=2)).run(progress=False)
    assert a.run_id == b.run_id
    pd.testing.assert_frame_equal(_scores(a), _scores(b))
    pd.testing.assert_frame_equal(a.predictions, b.predictions)


@pytest.fixture(scope="module")
def steels_csv(tmp_path_factory):
    from assay.data.loading import load_task

    ds = load_task("steels")
    d = tmp_path_factory.mktemp("steels_csv")
    df = pd.DataFrame({"id": list(ds.ids[:80]), "formula": list(ds.inputs[:80]),
                       "yield": list(ds.target[:80])})
    path = d / "steels.csv"
    df.to_csv(path, index=False)
    return path


def _user_cfg(path, out, **kw):
    return RunConfig(data=str(path), target="yield", models=["dummy", "ridge"], out_dir=str(out),
                     **{**FAST, **kw})


def test_an_edited_data_file_is_a_new_run(steels_csv, tmp_path):
    first = Experiment(_user_cfg(steels_csv, tmp_path)).run(progress=False)
    edited = tmp_path / "steels.csv"
    df = pd.read_csv(steels_csv)
    df.loc[3, "yield"] += 100.0
    df.to_csv(edited, index=False)
    shutil.copy(edited, steels_csv.parent / "edited.csv")
    again = Experiment(_user_cfg(steels_csv.parent / "edited.csv", tmp_path)).run(progress=False)
    assert again.run_id.split("-")[-1] != first.run_id.split("-")[-1]
    # the same file again resumes the same run
    same = Experiment(_user_cfg(steels_csv, tmp_path)).run(progress=False)
    assert same.run_id == first.run_id


@pytest.mark.parametrize("name", ["../x", "/tmp/abs", "a/b", "..", ".hidden"])
def test_run_names_cannot_leave_the_output_folder(name, steels_csv, tmp_path):
    with pytest.raises(ConfigError, match="plain folder name"):
        _user_cfg(steels_csv, tmp_path, name=name)
    assert not any(tmp_path.iterdir())


def test_config_toml_with_a_bad_name_is_refused(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('task = "steels"\nname = "../escape"\n')
    with pytest.raises(ConfigError, match="plain folder name"):
        RunConfig.from_toml(p)


@pytest.mark.parametrize("key,value,msg", [
    ("models", "rf", "must be a list"), ("learning_curve", "false", "true/false"),
    ("n_folds", "five", "whole number"), ("n_folds", 1, "at least 2"), ("seed", 1.5, "whole number"),
    ("controls", "none", "a list")])
def test_config_values_are_type_checked(key, value, msg, tmp_path):
    with pytest.raises(ConfigError, match=msg):
        RunConfig(task="steels", out_dir=str(tmp_path), **{key: value})
    assert not any(tmp_path.iterdir())


def test_broken_toml_names_the_file(tmp_path):
    p = tmp_path / "broken.toml"
    p.write_text('task = "steels\nmodels = [\n')
    with pytest.raises(ConfigError, match="broken.toml: not valid TOML"):
        RunConfig.from_toml(p)


def test_the_callers_config_is_never_mutated(steels_csv, tmp_path):
    cfg = RunConfig(data=str(steels_csv), target="yield", models=["all"], out_dir=str(tmp_path),
                    controls=[], learning_curve=False, n_folds=2)
    before = repr(cfg)
    exp = Experiment(cfg)
    exp.resolve(progress=False)
    assert repr(cfg) == before and cfg.models == ["all"] and cfg.primary_model is None


def test_a_truncated_fold_file_is_recomputed_with_a_warning(steels_csv, tmp_path, capsys):
    res = Experiment(_user_cfg(steels_csv, tmp_path)).run(progress=False)
    f = res.path / "folds" / "ridge" / "fold_1.json"
    text = f.read_text()
    f.write_text(text[: len(text) // 2])  # a disk-full or killed write
    res2 = Experiment(_user_cfg(steels_csv, tmp_path)).run(progress=False)
    err = capsys.readouterr().err
    assert "fold_1.json" in err and "corrupted" in err
    pd.testing.assert_frame_equal(_scores(res), _scores(res2))
    assert json.loads(f.read_text())["fold"] == 1


def test_a_run_that_raised_is_marked_failed(steels_csv, tmp_path):
    from sklearn.base import BaseEstimator, RegressorMixin

    class Boom(RegressorMixin, BaseEstimator):
        def fit(self, X, y):
            raise RuntimeError("boom")

        def predict(self, X):
            return np.zeros(len(X))

    cfg = RunConfig(data=str(steels_csv), target="yield", models={"dummy": "dummy", "boom": Boom()},
                    out_dir=str(tmp_path), **FAST)
    with pytest.raises(RuntimeError, match="boom"):
        Experiment(cfg).run(progress=False)
    runs = RunDatabase(tmp_path / "assay.sqlite").list_runs()
    assert list(runs["status"]) == ["failed"]
    info = json.loads(next(tmp_path.glob("steels-*/run.json")).read_text())
    assert info["status"] == "failed" and "boom" in info["error"]


def test_predict_and_load_run_work_from_another_folder(steels_csv, tmp_path, monkeypatch):
    from assay.explanation.predict import predict_frame

    monkeypatch.chdir(tmp_path)
    rel = os.path.relpath(steels_csv, tmp_path)
    res = Experiment(RunConfig(data=rel, target="yield", models=["dummy", "ridge"], out_dir="runs",
                               **FAST)).run(progress=False)
    cfg = RunConfig.from_toml(res.path / "config.toml")
    assert os.path.isabs(cfg.data)  # stored absolute
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    run = load_run(res.path)
    assert run.run_id == res.run_id
    out = predict_frame(res.path, pd.Series(["Fe0.7Ni0.2Cr0.1", "Xx2O"]), trust=False)
    assert np.isfinite(out.iloc[0, 1])
    assert np.isnan(out.iloc[1, 1]) and "not featurised" in out["note"].iloc[1]


def test_a_tampered_model_pickle_is_refused(steels_csv, tmp_path):
    res = Experiment(_user_cfg(steels_csv, tmp_path)).run(progress=False)
    f = RunFolder(res.path)
    assert f.validate() == []
    p = res.path / "model.joblib"
    p.write_bytes(p.read_bytes() + b"\x00")
    with pytest.raises(RunFolderError, match="changed after the run wrote it"):
        f.load_pickle("model.joblib")
    assert any("SHA-256" in x for x in f.validate())


def test_run_folder_requires_a_finished_run(tmp_path):
    with pytest.raises(RunFolderError, match="not a finished assay run"):
        RunFolder(tmp_path).require_finished()
    assert isinstance(RunFolderError("x"), AssayError)


def test_shared_data_present_or_skipped():
    assert SHARED.name == "matbench"


def test_a_fold_column_of_the_users_table_is_the_split(steels_csv, tmp_path):
    df = pd.read_csv(steels_csv)
    df["fold"] = np.arange(len(df)) % 4
    df["year"] = 2000 + np.arange(len(df)) // 10
    p = tmp_path / "with_folds.csv"
    df.to_csv(p, index=False)
    res = Experiment(RunConfig(data=str(p), target="yield", models=["dummy", "ridge"], split="column:fold",
                               out_dir=str(tmp_path), **FAST)).run(progress=False)
    folds = json.loads((res.path / "folds.json").read_text())
    assert folds["split"] == "column:fold" and folds["test_fold"] == list(df["fold"])
    # the extra columns never reach the features
    assert "year" not in json.loads((res.path / "features.json").read_text())["labels"]


def test_forward_split_by_an_order_column_from_the_command_line(steels_csv, tmp_path):
    from typer.testing import CliRunner

    from assay.cli import app

    df = pd.read_csv(steels_csv)
    df["year"] = 1990 + np.arange(len(df)) // 8
    p = tmp_path / "dated.csv"
    df.to_csv(p, index=False)
    r = CliRunner().invoke(app, ["run", str(p), "--target", "yield", "--models", "dummy,ridge", "--split",
                                 "forward", "--order-column", "year", "--n-folds", "3", "--out",
                                 str(tmp_path), "--controls", "none", "--no-learning-curve", "-q"])
    assert r.exit_code == 0, r.output
    run = next(tmp_path.glob("dated-*"))
    info = json.loads((run / "folds.json").read_text())
    years = df["year"].to_numpy()
    for k, te in enumerate(info["test_indices"]):
        sizes = info["fold_sizes"][k]
        assert sizes["n_train"] > 0
        first_test_year = years[te].min()
        assert first_test_year > years[:sizes["n_train"]].max()  # expanding windows: the past only
    from assay.report.commands import make_report

    html = make_report(run, notebook=False, submission=False)["report"].read_text()
    assert "Error against time</h3>" in html
