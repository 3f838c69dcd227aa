"""The official Matbench v0.1 leaderboard, shipped with the package, and ranking against it."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

from .tasks import get_task

#: Metrics where a larger number is better.
HIGHER_IS_BETTER = {"rocauc", "balanced_accuracy", "accuracy", "f1", "roc_auc_true", "r2"}


@lru_cache(maxsize=1)
def load_leaderboard() -> pd.DataFrame:
    path = resources.files("assay.data") / "bundled" / "matbench_v0.1_leaderboard.csv"
    with resources.as_file(path) as p:
        return pd.read_csv(p)


def task_leaderboard(task: str) -> pd.DataFrame:
    """The leaderboard rows of one task, best first."""
    t = get_task(task)
    lb = load_leaderboard()
    rows = lb[lb["task"] == t.name].copy()
    ascending = t.primary_metric not in HIGHER_IS_BETTER
    return rows.sort_values("mean", ascending=ascending).reset_index(drop=True)


def rank_against(task: str, algorithm: str, mean: float, std: float) -> pd.DataFrame:
    """The task's leaderboard with one more entry placed by its primary-metric mean.

    Returns the table with a ``rank`` column and an ``is_ours`` flag for the added row.
    """
    t = get_task(task)
    lb = task_leaderboard(task)[["algorithm", "metric", "mean", "std"]].assign(is_ours=False)
    ours = pd.DataFrame([{"algorithm": algorithm, "metric": t.primary_metric,
                          "mean": mean, "std": std, "is_ours": True}])
    ascending = t.primary_metric not in HIGHER_IS_BETTER
    table = pd.concat([lb, ours], ignore_index=True).sort_values(
        ["mean", "is_ours"], ascending=[ascending, False], kind="mergesort").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table
