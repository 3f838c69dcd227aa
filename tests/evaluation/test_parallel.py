"""Serial, local-parallel (joblib loky) and Dask runs give the same numbers."""
import json

import pandas as pd
import pytest

from assay import Experiment

KW = dict(task="steels", models=["dummy", "knn", "ridge"], search="random", search_trials=2,
          learning_curve_sizes=[0.3, 1.0])


def _strip(res):
    return res.scores.drop(columns="fit_seconds")


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    return Experiment(**KW, out_dir=str(tmp_path_factory.mktemp("serial"))).run(progress=False)


def test_parallel_processes_give_the_same_numbers(serial, tmp_path):
    par = Experiment(**KW, n_jobs=2, out_dir=str(tmp_path)).run(progress=False)
    assert par.run_id == serial.run_id  # n_jobs is not part of what defines the numbers
    pd.testing.assert_frame_equal(_strip(par), _strip(serial))
    assert par.comparison["rows"] == serial.comparison["rows"]
    assert par.learning_curve == serial.learning_curve


def test_dask_local_cluster_gives_the_same_numbers(serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster:
        res = Experiment(**KW, cluster=cluster.scheduler_address,
                         out_dir=str(tmp_path)).run(progress=False)
    pd.testing.assert_frame_equal(_strip(res), _strip(serial))
    assert res.comparison["rows"] == serial.comparison["rows"]
    run = json.loads((res.path / "run.json").read_text())
    assert run["cluster"].startswith("tcp://")
    # the trial histories were written by the workers into the run folder
    assert len(json.loads((res.path / "search" / "ridge" / "fold_2.json").read_text())["trials"]) == 2


def test_run_folder_artifacts(serial):
    p = serial.path
    for name in ["comparison.json", "learning_curve.json", "learning_curve.png", "folds.json",
                 "controls/ridge/random-features/fold_0.json",
                 "controls/ridge/scrambled-target/fold_4.json"]:
        assert (p / name).is_file(), name
    comp = json.loads((p / "comparison.json").read_text())
    vs = {(r["model"], r["versus"]) for r in comp["rows"]}
    assert {("ridge", "dummy"), ("ridge", "ridge [random-features]"),
            ("ridge", "ridge [scrambled-target]"), ("knn", "dummy")} <= vs
    scr = next(r for r in comp["rows"] if r["versus"] == "ridge [scrambled-target]")
    assert scr["beats"]  # a real model beats itself trained on scrambled targets
    lc = json.loads((p / "learning_curve.json").read_text())
    sizes = lc["curves"][0]["sizes"]
    assert [s["fraction"] for s in sizes] == [0.3, 1.0]
    assert sizes[0]["n_train_mean"] < sizes[1]["n_train_mean"]
    assert len(sizes[0]["validation"]["folds"]) == 5
    folds = json.loads((p / "folds.json").read_text())
    assert "overlap" in folds and len(folds["overlap"]["folds"]) == 5
