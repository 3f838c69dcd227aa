"""What ``assay explain`` needs from a finished run: its data, features, folds and model, rebuilt
through the run's own RunFolder and resolver, so explain refits exactly the model the run
evaluated (a user's own model included) on exactly its training folds."""
from __future__ import annotations

import numpy as np

from ..errors import RunFolderError
from ..features import featurize
from ..run.fold import clean_training_rows
from ..run.folder import RunFolder
from ..run.resolve import resolve_run


class RunData:
    """The run's config, dataset, feature matrix and folds, rebuilt from the run folder."""

    def __init__(self, run_dir, progress: bool = False):
        self.folder = RunFolder(run_dir)
        self.run_dir = self.folder.path
        if not self.folder.has("config.toml"):
            raise RunFolderError(f"{run_dir} is not a run folder (no config.toml)")
        self.folder.require_finished()
        self.config = self.folder.read_config()
        objects = self.folder.load_pickle("plugins.pkl") if self.folder.has("plugins.pkl") else None
        resolved = resolve_run(self.config, progress=progress, objects=objects)
        self.resolved = resolved
        self.dataset = ds = resolved.dataset
        c = resolved.config
        recorded_sha = self.folder.dataset_info().get("content_sha256")
        if recorded_sha and recorded_sha != resolved.data_sha256:
            raise RunFolderError(f"{run_dir}: the data at {c.data or c.task} changed since the run "
                                 "(content hash differs); explain would describe other rows")
        fs = featurize(ds.inputs, resolved.features, input_type=ds.input_type, ids=ds.ids,
                       n_jobs=c.n_jobs, threads=c.threads, progress=progress)
        labels = fs.labels
        recorded = (self.folder.read_json("features.json", default={}) or {}).get("labels")
        if recorded and set(recorded) <= set(labels):
            labels = recorded
        self.labels = list(labels)
        self.X = fs.X[self.labels].to_numpy(dtype=float)
        self.y = ds.y()
        self.ids = np.asarray(ds.ids)
        folds = self.folder.folds_info()
        if "test_fold" not in folds:
            raise RunFolderError(f"{run_dir}: explain needs a split whose test folds partition the rows")
        tf = np.asarray(folds["test_fold"], dtype=int)
        if len(tf) != len(self.y):
            raise RunFolderError(f"{run_dir}: folds.json has {len(tf)} rows, the data {len(self.y)}")
        self.split = folds.get("split", "")
        self.folds = self.folder.test_folds()
        self.model_name = resolved.primary
        self.entry = resolved.models[resolved.primary]
        self.task_type = ds.task_type
        self.seed = c.seed
        self.features_text = c.identity()["features"]

    def make_model(self):
        return self.entry.build(self.task_type, self.seed, feature_names=self.labels)

    def training_rows(self, train):
        """Training rows after the run's cleaning steps (applied to training rows only)."""
        train = np.asarray(train)
        data = self.dataset.subset(train) if self.config.cleaning else None
        rows, y_train, _ = clean_training_rows(data, train, self.y[train], self.config.cleaning)
        return np.asarray(rows), np.asarray(y_train)


__all__ = ["RunData"]
