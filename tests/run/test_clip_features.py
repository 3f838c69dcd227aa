"""``clip_features`` / ``--clip-features``: off by default (run ids and scores as before), on it
winsorises the non-baseline models inside each training fold and logs the counts per fold."""
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from assay import Experiment, RunConfig
from assay.cli import app
from assay.run.config import ConfigError

runner = CliRunner()


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    from assay.data.loading import load_task

    d = tmp_path_factory.mktemp("clip")
    ds = load_task("steels")
    pd.DataFrame({"id": list(ds.ids[:60]), "formula": list(ds.inputs[:60]),
                  "yield": list(ds.target[:60])}).to_csv(d / "t.csv", index=False)
    return d


def _cfg(d, **kw):
    return RunConfig(data=str(d / "t.csv"), target="yield", models=["dummy", "ridge"], controls=[],
                     learning_curve=False, n_folds=3, out_dir=str(d / "runs"), **kw)


def test_default_off_keeps_run_ids_and_the_option_changes_them(table):
    # digests pinned from before the option existed: existing run folders keep their ids
    assert RunConfig(task="matbench_glass", models=["dummy", "rf", "lgbm"]).digest() == "dfcf2593de"
    cfg = RunConfig(data="t.csv", target="yield", models=["dummy", "ridge"], controls=[],
                    learning_curve=False, n_folds=3)
    assert cfg.digest("abc") == "f33acdae46"
    assert cfg.replace(clip_features=0.01).digest("abc") not in ("f33acdae46",
                                                                 cfg.replace(clip_features=0.05).digest("abc"))
    assert "clip_features" not in cfg.to_toml() and "clip_features = 0.01" in cfg.replace(clip_features=0.01).to_toml()
    with pytest.raises(ConfigError, match="clip_features"):
        cfg.replace(clip_features=0.7)


def test_clipping_is_logged_per_fold_and_off_leaves_folds_untouched(table):
    off = Experiment(_cfg(table)).run(progress=False)
    r = runner.invoke(app, ["run", str(table / "t.csv"), "--target", "yield", "--models", "dummy,ridge",
                            "--n-folds", "3", "--controls", "none", "--no-learning-curve", "-q",
                            "--out", str(table / "runs"), "--clip-features", "0.1"])
    assert r.exit_code == 0, r.output
    on_dir = next(p for p in (table / "runs").iterdir() if p.is_dir() and p.name != off.path.name)
    for k in range(3):
        f_off = json.loads((off.path / "folds" / "ridge" / f"fold_{k}.json").read_text())
        assert "feature_clipping" not in f_off  # off: fold files exactly as before
        f_on = json.loads((on_dir / "folds" / "ridge" / f"fold_{k}.json").read_text())
        log = f_on["feature_clipping"]
        assert log["quantiles"] == [0.1, 0.9] and log["n_train"] == f_on["n_train"]
        assert log["train_values"] > 0 and log["train_values"] == sum(v["train"] for v in log["per_feature"].values())
        assert log["test_values"] == sum(v["test"] for v in log["per_feature"].values())
        assert "feature_clipping" not in json.loads((on_dir / "folds" / "dummy" / f"fold_{k}.json").read_text())
    on = json.loads((on_dir / "summary.json").read_text())
    assert on["dummy"]["mae"]["mean"] == off.summary["dummy"]["mae"]["mean"]  # baselines untouched
    assert on["ridge"]["mae"]["mean"] != off.summary["ridge"]["mae"]["mean"]
