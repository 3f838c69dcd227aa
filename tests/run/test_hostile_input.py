"""Careless and hostile input at the run and predict level: every failure named, nothing silently
wrong, nothing half-written (issue 13; the data-layer cases are in tests/data)."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from assay import Experiment, RunConfig
from assay.cli import app
from assay.errors import AssayError

runner = CliRunner()
FAST = ["--controls", "none", "--no-learning-curve", "-q"]


@pytest.fixture
def table(tmp_path):
    from assay.data.loading import load_task

    ds = load_task("steels")
    df = pd.DataFrame({"id": list(ds.ids[:60]), "formula": list(ds.inputs[:60]),
                       "yield": list(ds.target[:60])})
    df.to_csv(tmp_path / "t.csv", index=False)
    return tmp_path, df


def test_an_absurd_target_value_is_named_when_the_run_starts(table):
    d, df = table
    df.loc[7, "yield"] = 2.9e6  # one value in the wrong unit
    df.to_csv(d / "bad.csv", index=False)
    r = runner.invoke(app, ["run", str(d / "bad.csv"), "--target", "yield", "--models", "dummy,ridge",
                            "--out", str(d / "runs"), "--controls", "none", "--no-learning-curve"])
    assert r.exit_code == 0, r.output
    assert "robust scales" in r.output and "remove_outliers" in r.output
    # the remedy the message names works from the command line
    r = runner.invoke(app, ["run", str(d / "bad.csv"), "--target", "yield", "--models", "dummy,ridge",
                            "--out", str(d / "runs"), *FAST,
                            "--clean", '{"step": "remove_outliers", "method": "robust", "threshold": 10}'])
    assert r.exit_code == 0, r.output


def test_log_target_transform_predicts_in_the_targets_units(table, tmp_path):
    d, _ = table
    cfg = RunConfig(data=str(d / "t.csv"), target="yield", models=["dummy", "ridge"],
                    target_transform="log10", controls=[], learning_curve=False, n_folds=3,
                    out_dir=str(tmp_path / "runs"))
    res = Experiment(cfg).run(progress=False)
    preds = res.predictions[res.predictions["model"] == "ridge"]
    assert preds["y_pred"].between(100, 5000).all()  # MPa, not log10(MPa)
    bad = cfg.replace(target_transform="log10", target_shift=-1e4)
    with pytest.raises(AssayError, match="log10 target transform needs"):
        Experiment(bad).resolve(progress=False)


def test_rich_markup_in_user_text_is_printed_literally(table):
    d, _ = table
    r = runner.invoke(app, ["run", str(d / "t.csv"), "--target", "[bold]yield[/]", *FAST])
    assert r.exit_code == 2
    assert "[bold]yield[/]" in r.output


def test_fewer_rows_than_folds_says_what_to_pass(table):
    d, df = table
    df.head(3).to_csv(d / "three.csv", index=False)
    r = runner.invoke(app, ["run", str(d / "three.csv"), "--target", "yield", *FAST])
    assert r.exit_code == 2 and "--n-folds" in r.output and "three.csv" in r.output


def test_data_files_by_suffix_are_never_taken_for_task_names(table):
    d, df = table
    df.to_csv(d / "t.tsv", sep="\t", index=False)
    r = runner.invoke(app, ["run", str(d / "t.tsv"), "--target", "yield", "--models", "dummy",
                            "--out", str(d / "runs"), *FAST])
    assert r.exit_code == 0, r.output


def test_a_full_disk_gives_a_message_and_leaves_nothing_half_written(table, monkeypatch):
    import assay.store.atomic as atomic

    d, _ = table
    real = os.replace
    calls = {"n": 0}

    def full(src, dst):
        calls["n"] += 1
        if calls["n"] > 6:  # fail part-way through the run
            raise OSError(28, "No space left on device", str(dst))
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", full)
    r = runner.invoke(app, ["run", str(d / "t.csv"), "--target", "yield", "--models", "dummy",
                            "--out", str(d / "runs"), *FAST])
    assert r.exit_code == 2
    assert "No space left on device" in r.output and "cannot write the run folder" in r.output
    assert not list((d / "runs").rglob("*.tmp"))


def test_predict_files_are_spreadsheet_safe_and_empty_files_are_named(table):
    d, _ = table
    res = Experiment(RunConfig(data=str(d / "t.csv"), target="yield", models=["dummy", "ridge"],
                               controls=[], learning_curve=False, n_folds=3,
                               out_dir=str(d / "runs"))).run(progress=False)
    pd.DataFrame({"formula": ["=HYPERLINK(\"x\")", "Fe0.7Ni0.3"]}).to_csv(d / "new.csv", index=False)
    r = runner.invoke(app, ["predict", str(res.path), str(d / "new.csv"), "-o", str(d / "out.csv")])
    assert r.exit_code == 0, r.output
    out = pd.read_csv(d / "out.csv")
    assert out["input"].iloc[0].startswith("'=")
    assert np.isnan(out["predicted yield"].iloc[0]) and np.isfinite(out["predicted yield"].iloc[1])
    (d / "empty.csv").write_text("formula\n")
    r = runner.invoke(app, ["predict", str(res.path), str(d / "empty.csv")])
    assert r.exit_code == 2 and "empty.csv" in r.output and "no rows" in r.output


def test_intervals_of_a_one_signed_target_are_clipped_and_say_so():
    from assay.explanation.predict import clip_to_sign

    lo, hi, why = clip_to_sign(np.array([-1.0, 2.0]), np.array([3.0, 4.0]), [0.0, 10.0])
    assert list(lo) == [0.0, 2.0] and "clipped at 0" in why[0] and why[1] == ""
    lo, hi, why = clip_to_sign(np.array([-3.0]), np.array([0.5]), [-9.0, -0.1])
    assert hi[0] == 0.0 and "never positive" in why[0]


def test_notebook_markdown_neutralises_user_html():
    from assay.report.notebook import _md, md_text

    cell = _md("target <img src=x onerror=alert(1)>")
    assert "<img" not in cell["source"] and "&lt;img" in cell["source"]
    assert md_text("[a](javascript:x)") == "\\[a\\]\\(javascript:x\\)"


def test_progress_is_a_line_per_fold_job_when_output_is_not_a_terminal(table, capsys):
    from assay.ui import set_quiet

    set_quiet(False)  # an earlier -q in this process must not hide it
    d, _ = table
    Experiment(RunConfig(data=str(d / "t.csv"), target="yield", models=["dummy", "ridge"], controls=[],
                         learning_curve=False, n_folds=3, out_dir=str(d / "runs"))).run(progress=True)
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith("folds x models:")]
    assert len(lines) == 6 and "6/6 done" in lines[-1] and "ETA" in lines[0]


SLOW_MODEL = """
import os
import time
import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

class Slow(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        open(os.path.join(os.environ["SLOW_MARKS"], str(os.getpid())), "w").close()
        time.sleep(60)
        return self
    def predict(self, X):
        return np.zeros(len(X))
"""


def _children(pid: int) -> set[int]:
    out = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out |= {int(x) for x in (task / "children").read_text().split()}
        except OSError:
            pass
    return out


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_end_with_a_killed_run(sig, table, tmp_path):
    d, _ = table
    marks = tmp_path / "marks"
    marks.mkdir()
    module = tmp_path / "slow.py"
    module.write_text(SLOW_MODEL)
    proc = subprocess.Popen([sys.executable, "-m", "assay.cli", "run", str(d / "t.csv"), "--target", "yield",
                             "--models", f"{module}:Slow", "-j", "2", "--n-folds", "2",
                             "--out", str(tmp_path / "runs"), *FAST],
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path),
                                 "SLOW_MARKS": str(marks)})
    workers: set[int] = set()
    deadline = time.time() + 180
    while time.time() < deadline and len(workers) < 2 and proc.poll() is None:
        time.sleep(0.5)
        workers = {int(p.name) for p in marks.iterdir()}  # workers inside a fold's fit
    assert len(workers) >= 2, "the run did not start computing in two workers"
    os.kill(proc.pid, sig)
    proc.wait(timeout=60)
    deadline = time.time() + 15
    while time.time() < deadline and any(Path(f"/proc/{w}").exists() and
                                         "Z" not in _state(w) for w in workers):
        time.sleep(0.5)
    alive = [w for w in workers if Path(f"/proc/{w}").exists() and "Z" not in _state(w)]
    assert not alive, f"workers still computing after the run was killed: {alive}"
    if sig == signal.SIGTERM:
        info = json.loads(next((tmp_path / "runs").glob("t-*/run.json")).read_text())
        assert info["status"] == "interrupted"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return "Z"


def test_text_labels_come_back_as_labels_and_poscar_columns_predict(tmp_path):
    from pymatgen.io.vasp import Poscar

    from assay.data.loading import load_task

    g = load_task("glass")
    labels = np.where(g.target.to_numpy()[:80] == 1, "glass", "crystal")
    pd.DataFrame({"formula": list(g.inputs[:80]), "phase": labels}).to_csv(tmp_path / "g.csv", index=False)
    r = runner.invoke(app, ["run", str(tmp_path / "g.csv"), "--target", "phase", "--task-type",
                            "classification", "--models", "dummy,rf", "--n-folds", "3",
                            "--out", str(tmp_path / "runs"), *FAST])
    assert r.exit_code == 0, r.output
    run = next((tmp_path / "runs").glob("g-*"))
    pd.DataFrame({"formula": list(g.inputs[80:84])}).to_csv(tmp_path / "new.csv", index=False)
    r = runner.invoke(app, ["predict", str(run), str(tmp_path / "new.csv"), "-o", str(tmp_path / "p.csv")])
    assert r.exit_code == 0, r.output
    assert set(pd.read_csv(tmp_path / "p.csv")["predicted phase"]) <= {"glass", "crystal"}

    ph = load_task("phonons")
    rows = [Poscar(s).get_str() for s in ph.inputs[:40]]
    pd.DataFrame({"poscar": rows, "peak": list(ph.target[:40])}).to_csv(tmp_path / "ph.csv", index=False)
    r = runner.invoke(app, ["run", str(tmp_path / "ph.csv"), "--target", "peak", "--models", "dummy,ridge",
                            "--n-folds", "3", "--out", str(tmp_path / "runs"), *FAST])
    assert r.exit_code == 0, r.output
    run = next((tmp_path / "runs").glob("ph-*"))
    pd.DataFrame({"poscar": rows[:3]}).to_csv(tmp_path / "newp.csv", index=False)
    r = runner.invoke(app, ["predict", str(run), str(tmp_path / "newp.csv"), "-o", str(tmp_path / "pp.csv")])
    assert r.exit_code == 0, r.output
    assert np.isfinite(pd.read_csv(tmp_path / "pp.csv")["predicted peak"]).all()
