"""``RunFolder``: the one owner of a run folder's files — paths, typed reads and writes, checks.

Why one owner: the run folder is the interface between stages (run -> explain -> report, slides,
predict, compare, the notebook). When each stage read it its own way, a renamed key left both
sides green and the primary metric was derived in five places. Every artifact is written here,
atomically, and read back through the same class; ``validate()`` (in the spirit of matbench's
``MatbenchTask.validate``) says what is missing or inconsistent.

Layout (schema 2):

config.toml, dataset.json, folds.json, features.json, audit/    what the run was given and made
folds/<model>/fold_<k>.json            one outer fold's FoldResult (written as it finishes)
controls/<model>/<control>/fold_<k>.json, learning_curve/<model>/size_<f>/fold_<k>.json,
splits/<split>/folds/<model>/fold_<k>.json, search/<model>/fold_<k>.json
scores.csv, summary.json, predictions.parquet, comparison.json, learning_curve.json(.png),
extra_splits.json, results.json.gz, matbench/<model>/results.json.gz
model.joblib                           the refit primary model; its SHA-256 is in run.json
run.json                               status, timings, versions, machine, pickle hashes
trust/                                 ``assay explain``'s diagnostics and predictor.joblib
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
from pathlib import Path

import pickle

import cloudpickle
import numpy as np
import pandas as pd
from rich.markup import escape

from ..data.tasks import primary_metric
from ..errors import RunFolderError
from ..store.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text
from ..ui import console
from .config import RunConfig
from .records import Comparison, FoldResult

SCHEMA_VERSION = 2
REQUIRED = ("config.toml", "run.json", "dataset.json", "folds.json", "scores.csv", "summary.json",
            "predictions.parquet")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class RunFolder:
    """A run folder on disk. Paths are absolute, so a run is usable from any working folder."""

    def __init__(self, path):
        self.path = Path(path).expanduser().resolve()

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def file(self, rel: str) -> Path:
        return self.path / rel

    def has(self, rel: str) -> bool:
        return (self.path / rel).is_file()

    # -- generic typed I/O --------------------------------------------------------------------
    def write_json(self, rel: str, obj) -> Path:
        return atomic_write_json(self.path / rel, obj)

    def write_text(self, rel: str, text: str) -> Path:
        return atomic_write_text(self.path / rel, text)

    def read_json(self, rel: str, default=None, required: bool = False):
        p = self.path / rel
        if not p.is_file():
            if required:
                raise RunFolderError(f"{self.path}: missing {rel}; is the run finished?")
            return default
        try:
            if p.suffix == ".gz":
                with gzip.open(p, "rt") as fh:
                    return json.load(fh)
            return json.loads(p.read_text())
        except (OSError, ValueError) as exc:
            if required:
                raise RunFolderError(f"{p} is unreadable ({exc})") from None
            return default

    # -- config and provenance ----------------------------------------------------------------
    def write_config(self, cfg: RunConfig) -> None:
        self.write_text("config.toml", cfg.to_toml())

    def read_config(self) -> RunConfig:
        if not self.has("config.toml"):
            raise RunFolderError(f"{self.path} is not a run folder (no config.toml)")
        return RunConfig.from_toml(self.path / "config.toml")

    def run_info(self) -> dict:
        return self.read_json("run.json", default={}) or {}

    def write_run_info(self, info: dict) -> None:
        """run.json; the pickle hashes already recorded there are kept."""
        pickles = self.run_info().get("pickles")
        self.write_json("run.json", {"schema_version": SCHEMA_VERSION, **info,
                                     **({"pickles": pickles} if pickles else {})})

    def dataset_info(self) -> dict:
        return self.read_json("dataset.json", default={}) or {}

    def data_path(self) -> str | None:
        """The data file as recorded (absolute), so another working folder finds it."""
        return (self.dataset_info().get("source") or {}).get("path")

    @property
    def task_type(self) -> str:
        return self.dataset_info().get("task_type", "regression")

    @property
    def primary_metric(self) -> str:
        return self.run_info().get("primary_metric") or primary_metric(self.task_type)

    # -- folds --------------------------------------------------------------------------------
    def fold_path(self, kind: str, model: str, fold: int, variant: str | None = None,
                  split: str | None = None) -> Path:
        safe = _safe(model)
        if kind == "main":
            return self.path / "folds" / safe / f"fold_{fold}.json"
        if kind == "extra":
            return self.path / "splits" / _safe(split) / "folds" / safe / f"fold_{fold}.json"
        if kind == "control":
            return self.path / "controls" / safe / variant / f"fold_{fold}.json"
        if kind == "curve":
            return self.path / "learning_curve" / safe / variant / f"fold_{fold}.json"
        raise ValueError(f"unknown fold kind {kind!r}")

    def search_path(self, model: str, fold: int | str, split: str | None = None) -> Path:
        base = self.path / "splits" / _safe(split) if split else self.path
        name = f"fold_{fold}.json" if isinstance(fold, int) else f"{fold}.json"
        return base / "search" / _safe(model) / name

    def read_fold(self, path: Path) -> FoldResult | None:
        """The FoldResult at ``path``; None when absent. A truncated or corrupted file is named
        in a warning, removed, and None is returned, so the fold is computed again."""
        path = Path(path)
        if not path.is_file():
            return None
        try:
            return FoldResult.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, TypeError) as exc:
            console.print(f"[yellow]warning: {escape(str(path))} is corrupted "  # shown even with -q
                          f"({type(exc).__name__}: {escape(str(exc))}); recomputing that fold[/]")
            path.unlink(missing_ok=True)
            return None

    def fold_results(self, kind: str = "main") -> list[FoldResult]:
        pattern = {"main": "folds/*/fold_*.json", "control": "controls/*/*/fold_*.json",
                   "curve": "learning_curve/*/*/fold_*.json",
                   "extra": "splits/*/folds/*/fold_*.json"}[kind]
        out = [self.read_fold(p) for p in sorted(self.path.glob(pattern))]
        return [r for r in out if r is not None]

    def write_fold(self, path: Path, result: FoldResult) -> None:
        atomic_write_json(path, result.to_dict())

    # -- tables ------------------------------------------------------------------------------
    def write_scores(self, scores: pd.DataFrame) -> None:
        self.write_text("scores.csv", scores.to_csv(index=False))

    def scores(self) -> pd.DataFrame:
        self._require("scores.csv")
        return pd.read_csv(self.path / "scores.csv")

    def write_predictions(self, preds: pd.DataFrame) -> None:
        buf = io.BytesIO()
        preds.to_parquet(buf, index=False)
        atomic_write_bytes(self.path / "predictions.parquet", buf.getvalue())

    def predictions(self) -> pd.DataFrame:
        self._require("predictions.parquet")
        return pd.read_parquet(self.path / "predictions.parquet")

    def summary(self) -> dict:
        return self.read_json("summary.json", default={}, required=True)

    def comparison(self) -> Comparison | None:
        d = self.read_json("comparison.json")
        return Comparison.from_dict(d) if isinstance(d, dict) else None

    def folds_info(self) -> dict:
        return self.read_json("folds.json", default={}, required=True)

    def test_folds(self) -> list[tuple]:
        """(train, test) index arrays of the main split, as the run used them."""
        info = self.folds_info()
        if "test_fold" in info:
            tf = np.asarray(info["test_fold"], dtype=int)
            return [(np.flatnonzero((tf != k) & (tf >= 0)), np.flatnonzero(tf == k))
                    for k in range(int(tf.max()) + 1)]
        n = sum(len(t) for t in info["test_indices"])  # overlapping test folds (Monte Carlo)
        idx = info.get("n_rows") or n
        return [(np.setdiff1d(np.arange(idx), np.asarray(t)), np.asarray(t))
                for t in info["test_indices"]]

    # -- pickles: refit model and trust predictor, each checked against its recorded hash ------
    def write_pickle(self, rel: str, obj) -> str:
        data = cloudpickle.dumps(obj)  # a user's own classes travel by value (see references)
        atomic_write_bytes(self.path / rel, data)
        digest = sha256_bytes(data)
        info = self.run_info()
        info.setdefault("pickles", {})[rel] = digest
        self.write_json("run.json", info)
        return digest

    def load_pickle(self, rel: str):
        """Load a pickle written by this run; refuse one whose SHA-256 is not the recorded one
        (a run folder from someone else is code: a crafted pickle runs when loaded)."""
        p = self.path / rel
        if not p.is_file():
            raise RunFolderError(f"{self.path} has no {rel}; is the run finished?")
        recorded = (self.run_info().get("pickles") or {}).get(rel)
        if recorded is None:
            raise RunFolderError(f"{p}: no recorded SHA-256 for this pickle (run.json: pickles); "
                                 "refusing to load it. Loading a pickle runs code: re-run the "
                                 "run yourself, or only load folders you trust")
        got = sha256_file(p)
        if got != recorded:
            raise RunFolderError(f"{p} was changed after the run wrote it (SHA-256 {got[:12]}... "
                                 f"!= recorded {recorded[:12]}...); refusing to load it")
        with open(p, "rb") as fh:
            return pickle.load(fh)

    # -- checks -------------------------------------------------------------------------------
    def _require(self, rel: str) -> None:
        if not self.has(rel):
            raise RunFolderError(f"{self.path} is not a finished assay run (missing {rel}); "
                                 "run `assay run ...` first, or let an interrupted run finish")

    def require_finished(self) -> None:
        missing = [n for n in REQUIRED if not self.has(n)]
        if missing:
            raise RunFolderError(
                f"{self.path} is not a finished assay run (missing {', '.join(missing)}); "
                "run `assay run ...` first, or let an interrupted run finish.")

    def validate(self) -> list[str]:
        """Problems found (empty when the folder is a complete, consistent run)."""
        problems = [f"missing {n}" for n in REQUIRED if not self.has(n)]
        if problems:
            return problems
        info = self.run_info()
        if info.get("status") != "finished":
            problems.append(f"status is {info.get('status')!r}, not 'finished'")
        try:
            cfg = self.read_config()
            scores = self.scores()
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            return problems + [f"unreadable: {exc}"]
        names = cfg.model_names
        missing = [m for m in names if m != "all" and m not in set(scores["model"])]
        if missing:
            problems.append(f"no scores for {', '.join(missing)}")
        n_folds = int(self.folds_info().get("n_folds", 0))
        for m, g in scores.groupby("model"):
            if len(g) != n_folds:
                problems.append(f"{m}: {len(g)} fold scores for {n_folds} folds")
        for rel, digest in (info.get("pickles") or {}).items():
            if self.has(rel) and sha256_file(self.file(rel)) != digest:
                problems.append(f"{rel} does not match its recorded SHA-256")
        return problems


def _safe(name: str | None) -> str:
    """A model or split name as one path segment (user names can hold ':' or '/')."""
    name = str(name).replace("/", "_").replace("\\", "_")
    return name.lstrip(".") or "_"
