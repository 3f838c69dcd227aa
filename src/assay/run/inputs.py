"""``RunInputs``: a finished run's rows, feature matrix, target and outer folds, as Python objects.

Why: a student's own model must be judged on exactly what the recorded models saw. The rows
come from the run's config (with the run's pickled plugins where config.toml cannot rebuild
them), checked against the recorded data hash; the features from the feature cache the run
filled (computed again only where that cache is gone, and then said); the folds are made by the
run's own splitter and checked, fold by fold, against folds.json. Nothing is refitted and nothing
is written into the run folder.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import RunFolderError
from ..evaluation.splitters import make_splits
from ..features import featurize
from .folder import RunFolder
from .resolve import ResolvedRun, resolve_run

__all__ = ["RunInputs", "load_run_inputs"]


@dataclass
class RunInputs:
    """What every model of the run was fitted and scored on."""

    folder: RunFolder
    resolved: ResolvedRun
    X: np.ndarray  # rows x features, the run's column order
    y: np.ndarray
    labels: list[str]  # feature names
    folds: list[tuple[np.ndarray, np.ndarray]]  # (train, test) row positions of each outer fold
    split: str
    features_from_cache: bool  # False: the feature cache was gone and the features were recomputed
    features_seconds: float

    @property
    def dataset(self):
        return self.resolved.dataset

    @property
    def config(self):
        return self.resolved.config

    @property
    def task_type(self) -> str:
        return self.dataset.task_type

    @property
    def metric(self) -> str:
        return self.resolved.metric

    @property
    def higher_is_better(self) -> bool:
        return self.resolved.higher_is_better

    @property
    def ids(self) -> np.ndarray:
        return np.asarray(self.dataset.ids)

    def frame(self) -> pd.DataFrame:
        """The feature matrix as a table: one row per id, one column per feature."""
        return pd.DataFrame(self.X, index=pd.Index(self.ids, name="id"), columns=self.labels)

    def fold_table(self) -> pd.DataFrame:
        """One row per outer fold: its training and test sizes (and class balance)."""
        rows = []
        for k, (tr, te) in enumerate(self.folds):
            row = {"fold": k, "n_train": len(tr), "n_test": len(te)}
            if self.dataset.is_classification:
                row["positive share (train)"] = float(np.mean(self.y[tr] == 1))
                row["positive share (test)"] = float(np.mean(self.y[te] == 1))
            else:
                row["target mean (train)"] = float(np.mean(self.y[tr]))
                row["target mean (test)"] = float(np.mean(self.y[te]))
            rows.append(row)
        return pd.DataFrame(rows).set_index("fold")


def load_run_inputs(run, progress: bool = False, recorded_folds: bool = False) -> RunInputs:
    """The run's rows, features and folds (``run``: a run folder path, RunFolder or RunResult).

    ``recorded_folds``: take the folds as folds.json recorded them instead of making them again
    with the run's splitter (explain refits on exactly those, and a costly splitter is not re-run).
    """
    folder = run if isinstance(run, RunFolder) else RunFolder(getattr(run, "path", run))
    folder.require_finished()
    config = folder.read_config()
    objects = folder.load_pickle("plugins.pkl") if folder.has("plugins.pkl") else None
    r = resolve_run(config, progress=progress, objects=objects)
    recorded_sha = folder.dataset_info().get("content_sha256")
    if recorded_sha and recorded_sha != r.data_sha256:
        raise RunFolderError(f"{folder.path}: the data at {config.data or config.task} changed "
                             "since the run (content hash differs); these would be other rows")
    ds, c = r.dataset, r.config
    fs = featurize(ds.inputs, r.features, input_type=ds.input_type, ids=ds.ids, n_jobs=c.n_jobs,
                   threads=c.threads, progress=progress)
    labels = list(fs.labels)
    recorded = (folder.read_json("features.json", default={}) or {}).get("labels")
    if recorded:
        missing = [x for x in recorded if x not in labels]
        if missing:
            raise RunFolderError(f"{folder.path}: the features now lack {missing[:5]} that the run "
                                 "used (features.json); was the featuriser changed?")
        labels = list(recorded)
    X = fs.X[labels].to_numpy(dtype=float)
    info = folder.folds_info()
    if recorded_folds:
        folds = folder.test_folds()
    else:
        folds = make_splits(r.split, ds, n_folds=c.n_folds, seed=c.seed, X=X)
        _check_folds(folder.path, folds, info, len(ds))
    return RunInputs(folder, r, X, ds.y(), labels, folds, info.get("split", ""),
                     bool(fs.from_cache), float(fs.seconds))


def _check_folds(path: Path, folds, info: dict, n_rows: int) -> None:
    """The folds made now must be the ones the run recorded (same test rows, same sizes)."""
    sizes = info.get("fold_sizes") or []
    if len(folds) != int(info.get("n_folds", len(folds))):
        raise RunFolderError(f"{path}: {len(folds)} folds now, {info.get('n_folds')} recorded")
    if "test_fold" in info:
        tf = np.asarray(info["test_fold"], dtype=int)
        recorded_tests = [np.flatnonzero(tf == k) for k in range(len(folds))]
        if len(tf) != n_rows:
            raise RunFolderError(f"{path}: folds.json has {len(tf)} rows, the data {n_rows}")
    else:
        recorded_tests = [np.asarray(t, dtype=int) for t in info.get("test_indices", [])]
    for k, (tr, te) in enumerate(folds):
        if k < len(recorded_tests) and not np.array_equal(np.sort(te), np.sort(recorded_tests[k])):
            raise RunFolderError(f"{path}: fold {k}'s test rows differ from folds.json")
        if k < len(sizes) and int(sizes[k]["n_train"]) != len(tr):
            raise RunFolderError(f"{path}: fold {k} has {len(tr)} training rows, folds.json "
                                 f"{sizes[k]['n_train']}")
