"""Cleaning: each step's effect and log, config-built pipelines, and the input left untouched."""
import json

import numpy as np
import pandas as pd
import pytest

from assay.data.cleaning import (Cleaner, CleaningError, impute, merge_duplicates, remove,
                                 remove_outliers, step_from_dict, winsorize)
from assay.data.dataset import Dataset


def formulas(rows, task_type="regression"):
    ids = [r[0] for r in rows]
    return Dataset("toy", pd.Series([r[1] for r in rows], index=ids),
                   pd.Series([r[2] for r in rows], index=ids), "composition", task_type, "y",
                   source={"kind": "user"})


TOY = [("a", "Fe2O3", 1.0), ("b", "Fe4O6", 1.05), ("c", "Fe2O3", 3.0), ("d", "Fe0.4O0.6", 2.0),
       ("e", "NaCl", 0.5), ("f", "NaCl", 0.5), ("g", "LiF", 10.0), ("h", "MgO", 0.7)]


def snapshot(ds):
    return ds.inputs.copy(), ds.target.copy(), dict(ds.source)


def assert_unchanged(ds, snap):
    pd.testing.assert_series_equal(ds.inputs, snap[0])
    pd.testing.assert_series_equal(ds.target, snap[1])
    assert ds.source == snap[2]


def test_impute_mean_and_median():
    ds = formulas([("a", "NaCl", 1.0), ("b", "KBr", np.nan), ("c", "LiF", 2.0), ("d", "MgO", 6.0)])
    snap = snapshot(ds)
    new, entry = impute("mean")(ds)
    assert new.target["b"] == pytest.approx(3.0)
    assert entry.ids == ["b"] and entry.count == 1 and entry.changed == ["b"] and not entry.removed
    assert entry.before["n_missing"] == 1 and entry.after["n_missing"] == 0
    assert entry.details == [{"id": "b", "before": None, "after": 3.0}]
    new, entry = impute("median")(ds)
    assert new.target["b"] == pytest.approx(2.0)
    assert_unchanged(ds, snap)


def test_winsorize_by_hand():
    ids = [f"r{i}" for i in range(101)]
    ds = Dataset("w", pd.Series(["NaCl"] * 101, index=ids), pd.Series(np.arange(101.0), index=ids),
                 "composition", "regression", "y")
    snap = snapshot(ds)
    new, entry = winsorize(0.1, 0.9)(ds)
    # quantiles of 0..100 at 0.1 / 0.9 are 10 / 90: 0..9 -> 10 and 91..100 -> 90
    assert entry.info == {"lower_value": 10.0, "upper_value": 90.0}
    assert entry.count == 20 and sorted(entry.changed) == sorted(ids[:10] + ids[91:])
    assert new.target.min() == 10 and new.target.max() == 90 and len(new) == 101
    assert entry.details[0] == {"id": "r0", "before": 0.0, "after": 10.0}
    assert entry.before["max"] == 100 and entry.after["max"] == 90
    assert_unchanged(ds, snap)
    with pytest.raises(ValueError, match="0 <= lower < upper <= 1"):
        winsorize(0.9, 0.1)


def test_remove_by_ids_and_predicate():
    ds = formulas(TOY)
    snap = snapshot(ds)
    new, entry = remove(["a", "g"], reason="typo in source")(ds)
    assert list(new.ids) == ["b", "c", "d", "e", "f", "h"]
    assert entry.removed == ["a", "g"] and entry.count == 2
    assert entry.details[1] == {"id": "g", "target": 10.0, "reason": "typo in source"}
    new, entry = remove(lambda formula, y: "Fe" in formula and y > 1.5, reason="suspect")(ds)
    assert entry.removed == ["c", "d"]
    with pytest.raises(CleaningError, match="not in toy"):
        remove(["zz"], reason="x")(ds)
    with pytest.raises(ValueError, match="needs a reason"):
        remove(["a"], reason="")
    assert_unchanged(ds, snap)


def test_remove_outliers_matches_audit():
    ds = formulas(TOY)
    new, entry = remove_outliers("iqr")(ds)
    assert entry.removed == ["g"] and "4.65" in entry.details[0]["reason"]
    assert len(new) == 7
    ids = [f"r{i}" for i in range(20)]
    z = Dataset("z", pd.Series(["NaCl"] * 20, index=ids), pd.Series([0.0] * 19 + [10.0], index=ids),
                "composition", "regression", "y")
    _, entry = remove_outliers("zscore")(z)
    assert entry.removed == ["r19"]


def test_merge_duplicates_levels():
    ds = formulas(TOY)
    snap = snapshot(ds)
    new, entry = merge_duplicates("reduced_formula", how="mean")(ds)
    assert list(new.ids) == ["a", "d", "e", "g", "h"]
    assert new.target["a"] == pytest.approx((1.0 + 1.05 + 3.0) / 3)
    assert new.target["e"] == 0.5
    assert entry.removed == ["b", "c", "f"] and entry.changed == ["a"]
    assert entry.info["n_groups"] == 2

    new, entry = merge_duplicates("composition", how="median")(ds)
    assert list(new.ids) == ["a", "e", "g", "h"]
    assert new.target["a"] == pytest.approx(1.525)  # median of 1, 1.05, 2, 3

    new, entry = merge_duplicates("formula", how="first")(ds)
    assert list(new.ids) == ["a", "b", "d", "e", "g", "h"] and new.target["a"] == 1.0
    assert entry.changed == []

    new, entry = merge_duplicates("reduced_formula", drop_conflicting=True, tolerance=0.1)(ds)
    assert list(new.ids) == ["d", "e", "g", "h"]
    assert entry.removed == ["a", "b", "c", "f"]
    assert entry.details[0]["action"] == "dropped (conflicting targets)"
    assert_unchanged(ds, snap)


def test_merge_classification():
    ds = formulas([("a", "NaCl", 1), ("b", "NaCl", 0), ("c", "NaCl", 0), ("d", "Fe", 1)],
                  "classification")
    new, entry = merge_duplicates("formula")(ds)  # default how: majority label
    assert new.target.to_dict() == {"a": 0, "d": 1}
    assert new.target.dtype.kind == "i"
    with pytest.raises(CleaningError, match="cannot be averaged"):
        merge_duplicates("formula", how="mean")(ds)
    with pytest.raises(CleaningError, match="classification"):
        winsorize()(ds)


def test_cleaner_from_config_and_log():
    ds = formulas(TOY)
    snap = snapshot(ds)
    config = [{"step": "merge_duplicates", "level": "formula", "how": "first"},
              {"step": "remove_outliers", "method": "iqr"},
              {"step": "remove", "ids": ["h"], "reason": "retracted paper"},
              {"step": "winsorize", "lower": 0.0, "upper": 0.5}]
    new, log = Cleaner.from_config(config).apply(ds)
    # formula merge drops c and f; 'g' (10.0) is then outside the fences; h removed by id
    assert log.removed_ids == ["c", "f", "g", "h"]
    assert list(new.ids) == ["a", "b", "d", "e"]
    assert [e.step for e in log.entries] == ["merge_duplicates", "remove_outliers", "remove",
                                             "winsorize"]
    assert log.entries[0].before["n_rows"] == 8 and log.entries[-1].after["n_rows"] == 4
    assert log.summary()[2] == ("remove(rows=['h'], reason='retracted paper'): removed 1 row; "
                                "rows 5 -> 4")
    assert len(new.source["cleaning"]) == 4 and "cleaning" not in ds.source
    d = json.loads(json.dumps(log.to_dict(), allow_nan=False))
    assert d["removed_ids"] == ["c", "f", "g", "h"]
    assert_unchanged(ds, snap)


def test_cleaner_accepts_step_objects_and_bad_config():
    ds = formulas(TOY)
    new, log = Cleaner([winsorize(0.0, 0.9), {"step": "impute"}]).apply(ds)
    assert len(new) == 8 and log.entries[1].count == 0
    with pytest.raises(ValueError, match="unknown cleaning step 'scale'"):
        step_from_dict({"step": "scale"})
    with pytest.raises(ValueError, match="bad parameters for cleaning step 'winsorize'"):
        step_from_dict({"step": "winsorize", "low": 0.1})
    with pytest.raises(CleaningError, match="removed every row"):
        Cleaner([remove(lambda f, y: True, reason="all")]).apply(ds)
    same, log = Cleaner([]).apply(ds)
    assert same is not ds and same.target is not ds.target and not log.entries


def test_matbench_task_dropped_only_when_rows_go():
    from assay.data.loading import load_task

    ds = load_task("expt_gap")
    snap = snapshot(ds)
    capped, _ = winsorize()(ds)
    assert capped.task is ds.task
    merged, log = merge_duplicates("composition")(ds)
    assert merged.task is None and merged.source["matbench_task"] == "matbench_expt_gap"
    assert log.count == 6 and len(merged) == 4604 - 3
    assert_unchanged(ds, snap)
