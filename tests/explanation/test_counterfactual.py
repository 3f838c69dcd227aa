"""``assay counterfactual`` on a small classification (glass) and regression (steels) run: the
results reach the wish with the fewest edits, carry the run's probability / interval and domain
flag, an unseen element is flagged out of domain (not refused), and an unreachable wish says so."""
import os

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Composition
from typer.testing import CliRunner

from assay import Experiment, RunConfig
from assay.cli import app
from assay.errors import AssayError
from assay.explanation.counterfactual import (counterfactuals, parse_want, similar_elements,
                                              single_edits)
from assay.explanation.predict import predict_frame

runner = CliRunner()


def _run(base, task, target, n=100):
    from assay.data.loading import load_task

    ds = load_task(task)
    csv = base / f"{task}.csv"
    pd.DataFrame({"formula": list(ds.inputs[:n]), target: list(ds.target[:n])}).to_csv(csv, index=False)
    cfg = RunConfig(data=str(csv), target=target, models=["dummy", "rf"], controls=[],
                    learning_curve=False, n_folds=3, out_dir=str(base / "runs"))
    return Experiment(cfg).run(progress=False).path, csv


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("cf")
    old = os.environ.get("ASSAY_CACHE")
    os.environ["ASSAY_CACHE"] = str(base / "cache")
    try:
        yield {"glass": _run(base, "glass", "gfa", 120), "steels": _run(base, "steels", "yield")}
    finally:
        if old is None:
            os.environ.pop("ASSAY_CACHE", None)
        else:
            os.environ["ASSAY_CACHE"] = old


def test_similar_elements_and_single_edits():
    fe = similar_elements("Fe")
    assert {"Co", "Ni", "Ru"} <= set(fe) and "Fe" not in fe
    assert not {"He", "Ne", "Ar", "Kr", "Xe", "Tc", "Pm"} & {e for s in ("Fe", "Cu", "Zr", "B", "La")
                                                              for e in similar_elements(s)}
    assert "Hf" in similar_elements("Zr")
    edits = single_edits({"Fe": 0.8, "B": 0.2})
    for desc, fr, _ in edits:
        assert abs(sum(fr.values()) - 1) < 1e-9 and all(v > 0 for v in fr.values()), desc
    assert any(d == "Fe +5 at.%" and abs(fr["Fe"] - 0.85) < 1e-12 for d, fr, _ in edits)
    assert any(d == "B→Al" and fr == {"Fe": 0.8, "Al": 0.2} for d, fr, _ in edits)
    # an element brought in by a substitution is not substituted again
    assert not any("→" in d and d.startswith("Al") for d, _, _ in single_edits(
        {"Fe": 0.8, "Al": 0.2}, introduced=frozenset({"Al"})))


def test_parse_want():
    assert parse_want(">2.0", "regression").op == ">" and parse_want("<=1.5", "regression").value == 1.5
    assert parse_want("1", "classification").label == "1"
    with pytest.raises(AssayError, match="threshold"):
        parse_want("1", "regression")
    with pytest.raises(AssayError, match="classification"):
        parse_want(">0.5", "classification")


def test_classification_reaches_the_wanted_class(runs):
    run, csv = runs["glass"]
    train = pd.read_csv(csv)
    multi = train[[len(Composition(f).elements) >= 2 for f in train["formula"]]]
    pred = predict_frame(run, multi["formula"].reset_index(drop=True))
    zero = pred[pred["predicted gfa"] == 0].sort_values("probability", ascending=False)
    assert len(zero), "the small glass run predicts no composition as class 0"
    start = zero["input"].iloc[0]
    res = counterfactuals(run, start, "1")
    out = res["results"]
    assert len(out) >= 1 and (out["predicted gfa"] == 1).all()
    assert out["n_edits"].between(1, 2).all() and out["n_edits"].is_monotonic_increasing
    assert {"probability", "probability (calibrated)", "domain", "edits", "atoms changed"} <= set(out)
    assert out["probability"].between(0, 1).all() and set(out["domain"]) <= {"in", "OUT"}
    assert (out["atoms changed"] > 0).all()
    for formula in out["input"]:
        assert Composition(formula).num_atoms > 0
    # the rows are the run's own predictions for those compositions
    again = predict_frame(run, out["input"])
    np.testing.assert_allclose(again["probability"], out["probability"])
    # CLI: the same search, and a wish that is not one of the run's classes
    r = runner.invoke(app, ["counterfactual", str(run), start, "--want", "1", "-n", "3", "-o",
                            str(run.parent / "cf.csv")])
    assert r.exit_code == 0, r.output
    assert len(pd.read_csv(run.parent / "cf.csv")) == min(3, len(out))
    assert "edits reaching class 1" in r.output and out["edits"].iloc[0] in r.output
    r = runner.invoke(app, ["counterfactual", str(run), start, "--want", "7"])
    assert r.exit_code == 2 and "classes" in r.output


def test_regression_reaches_a_threshold_with_intervals(runs):
    run, csv = runs["steels"]
    start = pd.read_csv(csv)["formula"].iloc[0]
    p0 = float(predict_frame(run, pd.Series([start]))["predicted yield"].iloc[0])
    res = counterfactuals(run, start, f"<{p0 - 20:.6g}")
    out = res["results"]
    assert len(out) and (out["predicted yield"] < p0 - 20).all()
    assert (out["lower 90%"] <= out["predicted yield"]).all()
    assert (out["predicted yield"] <= out["upper 90%"]).all()
    assert set(out["domain"]) <= {"in", "OUT"} and out["n_edits"].is_monotonic_increasing


def test_unseen_element_is_flagged_out_of_domain_not_refused(runs):
    run, _ = runs["steels"]  # no boron in the first 100 steels
    res = counterfactuals(run, "Fe80B20", "<1e9", max_edits=1, n_results=50)
    start = res["start"].iloc[0]
    assert start["domain"] == "OUT" and "unseen element B" in start["note"]
    assert any("unseen element B" in n for n in res["notes"])
    assert "already predicted" in res["notes"][0]
    out = res["results"]
    with_b = out[["B" in {str(e) for e in Composition(f).elements} for f in out["input"]]]
    assert len(with_b) and (with_b["domain"] == "OUT").all()
    assert with_b["note"].str.contains(r"unseen elements? [^;]*\bB\b").all()
    # substituting the unseen element by a similar one is offered, and loses that reason
    sub = out[out["edits"].str.startswith("B→")]
    assert len(sub) and not sub["note"].str.contains(r"unseen elements? [^;]*\bB\b").any()


def test_unreachable_target_says_so(runs):
    run, csv = runs["steels"]
    start = pd.read_csv(csv)["formula"].iloc[0]
    with pytest.raises(AssayError, match=r"no composition within 2 edit\(s\).*closest was"):
        counterfactuals(run, start, ">1e9")
    r = runner.invoke(app, ["counterfactual", str(run), start, "--want", ">1e9"])
    assert r.exit_code == 2 and "no composition within" in r.output
    with pytest.raises(AssayError, match="not a composition"):
        counterfactuals(run, "Qq7", "<1")
