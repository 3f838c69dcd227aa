"""The run registry: one embedded SQLite file that records every run so runs can be listed and compared."""
from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pandas as pd

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, task TEXT, status TEXT, started TEXT, finished TEXT,
    wall_seconds REAL, path TEXT, config TEXT, versions TEXT, primary_model TEXT,
    primary_metric TEXT, primary_mean REAL, primary_std REAL
);
CREATE TABLE IF NOT EXISTS fold_scores (
    run_id TEXT, model TEXT, fold INTEGER, metric TEXT, value REAL, fit_seconds REAL,
    PRIMARY KEY (run_id, model, fold, metric)
);
CREATE TABLE IF NOT EXISTS timings (
    run_id TEXT, step TEXT, seconds REAL, PRIMARY KEY (run_id, step)
);
"""


class RunDatabase:
    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as con, con:
            con.executescript(SCHEMA)

    def _connect(self):
        return sqlite3.connect(self.path, timeout=30)

    def record_run(self, run_id: str, **fields) -> None:
        for key in ("config", "versions"):
            if key in fields and not isinstance(fields[key], str):
                fields[key] = json.dumps(fields[key], default=str)
        cols = ["run_id", *fields]
        sql = (f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
               f"ON CONFLICT(run_id) DO UPDATE SET "
               + ", ".join(f"{c}=excluded.{c}" for c in fields))
        with closing(self._connect()) as con, con:
            con.execute(sql, [run_id, *fields.values()])

    def record_fold_scores(self, run_id: str, rows: list[tuple]) -> None:
        """rows: (model, fold, metric, value, fit_seconds)."""
        with closing(self._connect()) as con, con:
            con.executemany("INSERT OR REPLACE INTO fold_scores VALUES (?, ?, ?, ?, ?, ?)",
                            [(run_id, *r) for r in rows])

    def record_timings(self, run_id: str, timings: dict[str, float]) -> None:
        with closing(self._connect()) as con, con:
            con.executemany("INSERT OR REPLACE INTO timings VALUES (?, ?, ?)",
                            [(run_id, k, float(v)) for k, v in timings.items()])

    def list_runs(self, task: str | None = None):
        sql = ("SELECT run_id, task, status, started, wall_seconds, primary_model, primary_metric, "
               "primary_mean, primary_std, path FROM runs")
        args: list = []
        if task:
            sql += " WHERE task = ?"
            args.append(task)
        with closing(self._connect()) as con:
            return pd.read_sql_query(sql + " ORDER BY started", con, params=args)

    def fold_scores(self, run_id: str):
        with closing(self._connect()) as con:
            return pd.read_sql_query("SELECT * FROM fold_scores WHERE run_id = ?", con,
                                     params=[run_id])
