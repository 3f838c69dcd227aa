"""How rows are split into training and test folds; every split is a list of (train_idx, test_idx)."""
from __future__ import annotations

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

from ..data.dataset import Dataset
from ..data.folds import official_folds


def make_splits(name: str, dataset: Dataset, *, n_folds: int = 5, seed: int = 0, X=None):
    """Outer folds by name. 'official' needs a Matbench task (its rows in mbid order)."""
    y = dataset.y()
    if name == "official":
        if dataset.task is None:
            raise ValueError("split='official' needs a Matbench task; use 'kfold' or 'stratified' "
                             "for your own data")
        return official_folds(dataset.task.name, y)
    if name == "kfold":
        return list(KFold(n_folds, shuffle=True, random_state=seed).split(np.zeros(len(y))))
    if name == "stratified":
        return list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    raise KeyError(f"Unknown split {name!r}; known: official, kfold, stratified")


def default_split(dataset: Dataset) -> str:
    if dataset.task is not None:
        return "official"
    return "stratified" if dataset.is_classification else "kfold"
