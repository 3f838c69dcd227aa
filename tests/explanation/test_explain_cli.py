import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from assay import Experiment
from assay.cli import app
from test_explain_progress import assert_stage_lines

runner = CliRunner()


@pytest.fixture(scope="module")
def steels_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return Experiment(task="steels", models=["dummy", "lgbm"], out_dir=str(out)).run(progress=False)


def test_explain_and_predict(steels_run, tmp_path):
    run_dir = steels_run.path
    r = runner.invoke(app, ["explain", str(run_dir), "--shap-rows", "60", "--inner-folds", "3",
                            "--perm-repeats", "1", "--perm-features", "25", "--no-quantile", "-j", "1"])
    assert r.exit_code == 0, r.output
    assert_stage_lines(r.output, n_folds=5)
    t = run_dir / "trust"
    for name in ["importance.json", "importance_grouped.json", "shap_summary.png", "surrogate.json",
                 "uncertainty.json", "calibration.png", "domain.json", "error_vs_distance.png",
                 "predictor.joblib", "trust.json", "matbench_results_with_uncertainty.json.gz"]:
        assert (t / name).is_file(), name
    assert list(t.glob("shap_dependence_*.png"))
    u = json.loads((t / "uncertainty.json").read_text())
    m = u["methods"]["cv+"]
    assert 0.8 <= m["coverage"] <= 1.0 and len(m["per_fold"]) == 5 and m["mean_width"] > 0
    assert {"coverage", "mean_width", "spearman_width_abs_error"} <= set(u["methods"]["cv+ normalized"])
    assert {0.5, 0.9, 0.95} <= {r["nominal"] for r in u["calibration_curve"]["cv+"]}
    assert u["primary_method"] in u["methods"]
    imp = json.loads((t / "importance.json").read_text())
    assert imp["groups"]["permutation"] and imp["groups"]["shap"][0]["group"]
    s = json.loads((t / "surrogate.json").read_text())
    assert s["fidelity_metric"] == "r2" and s["tree"]["fidelity"] <= 1 and "rules" in s["tree"]
    d = json.loads((t / "domain.json").read_text())
    assert 0 <= d["summary"]["fraction_out_of_domain"] <= 1 and len(d["per_fold"]) == 5

    new = tmp_path / "new.csv"
    from assay.data.loading import load_task

    seen = load_task("steels").inputs.iloc[0]  # a training composition: in domain
    pd.DataFrame({"formula": [seen, "Fe0.7Cr0.18Ni0.1U0.02"]}).to_csv(new, index=False)
    o = tmp_path / "pred.csv"
    r = runner.invoke(app, ["predict", str(run_dir), str(new), "-o", str(o)])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(o, keep_default_na=False)
    assert {"lower 90%", "upper 90%", "domain", "distance"} <= set(df.columns)
    pred = df.iloc[:, 1]
    assert (df["lower 90%"] < df["upper 90%"]).all() and pred.between(df["lower 90%"] - 200, df["upper 90%"] + 200).all()
    assert df.loc[0, "domain"] == "in"
    assert df.loc[1, "domain"] == "OUT" and "unseen element U" in df.loc[1, "note"]
    assert "unseen element U" in r.output
