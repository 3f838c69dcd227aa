import math

import pandas as pd
import pytest

from assay.data.leaderboard import load_leaderboard, rank_against, task_leaderboard
from assay.data.loading import load_task
from assay.data.tasks import TASKS, get_task


def test_registry_has_all_13_tasks():
    assert len(TASKS) == 13
    kinds = pd.Series({t.short: t.task_type for t in TASKS.values()})
    assert set(kinds[kinds == "classification"].index) == {"expt_is_metal", "glass", "mp_is_metal"}
    assert {t.short for t in TASKS.values() if t.input_type == "composition"} == {
        "expt_gap", "expt_is_metal", "glass", "steels"}


def test_short_and_full_names_and_unknown():
    assert get_task("expt_gap") is get_task("matbench_expt_gap")
    with pytest.raises(KeyError, match="Known tasks"):
        get_task("band_gap")


@pytest.mark.parametrize("name", ["expt_gap", "steels", "phonons"])
def test_metadata_matches_bundled_data(name):
    t = get_task(name)
    ds = load_task(name)
    assert len(ds) == t.n_samples
    assert ds.target_name == t.target
    y = ds.y()
    assert math.isclose(abs(y - y.mean()).mean(), t.mad, abs_tol=1e-3)


def test_every_task_has_leaderboard_rows_with_a_dummy():
    lb = load_leaderboard()
    for t in TASKS.values():
        rows = task_leaderboard(t.name)
        assert len(rows) > 0
        assert "Dummy" in set(rows["algorithm"])
        assert set(rows["metric"]) == {t.primary_metric}
    assert len(lb) == 180


def test_rank_against_places_entry():
    table = rank_against("expt_gap", "mine", 0.35, 0.01)
    ours = table[table.is_ours].iloc[0]
    better = task_leaderboard("expt_gap")["mean"].lt(0.35).sum()
    assert ours["rank"] == better + 1
    # classification: higher is better
    table = rank_against("glass", "mine", 0.99, 0.0)
    assert table.iloc[0]["is_ours"]
