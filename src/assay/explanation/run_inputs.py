"""What ``assay explain`` needs from a finished run: its data, features, folds and model.

The rows, features and folds are :func:`~assay.run.inputs.load_run_inputs`'s (the folds as
folds.json recorded them), so explain refits exactly the model the run evaluated (a user's own
model included) on exactly its training folds; this view adds what only explain needs: folds that
partition the rows, the primary model and the run's training-row cleaning."""
from __future__ import annotations

import numpy as np

from ..errors import RunFolderError
from ..run.fold import clean_training_rows
from ..run.folder import RunFolder
from ..run.inputs import RunInputs, load_run_inputs


class RunData:
    """The run's config, dataset, feature matrix and folds, rebuilt from the run folder."""

    def __init__(self, run_dir, progress: bool = False):
        folder = RunFolder(run_dir)
        if not folder.has("config.toml"):
            raise RunFolderError(f"{run_dir} is not a run folder (no config.toml)")
        inp = load_run_inputs(folder, progress=progress, recorded_folds=True)
        self.inputs: RunInputs = inp
        self.folder, self.run_dir = folder, folder.path
        self.config = folder.read_config()  # as written: its cleaning steps are the recorded ones
        self.resolved, self.dataset = inp.resolved, inp.dataset
        self.labels, self.X, self.y, self.ids = inp.labels, inp.X, inp.y, inp.ids
        info = folder.folds_info()
        if "test_fold" not in info:
            raise RunFolderError(f"{run_dir}: explain needs a split whose test folds partition the rows")
        n_tf = len(info["test_fold"])
        if n_tf != len(self.y):
            raise RunFolderError(f"{run_dir}: folds.json has {n_tf} rows, the data {len(self.y)}")
        self.split, self.folds = inp.split, inp.folds
        self.model_name = inp.resolved.primary
        self.entry = inp.resolved.models[inp.resolved.primary]
        self.task_type = inp.task_type
        self.seed = inp.config.seed
        self.features_text = inp.config.identity()["features"]

    def make_model(self):
        return self.entry.build(self.task_type, self.seed, feature_names=self.labels)

    def training_rows(self, train):
        """Training rows after the run's cleaning steps (applied to training rows only)."""
        train = np.asarray(train)
        data = self.dataset.subset(train) if self.config.cleaning else None
        rows, y_train, _ = clean_training_rows(data, train, self.y[train], self.config.cleaning)
        return np.asarray(rows), np.asarray(y_train)


__all__ = ["RunData"]
