"""Official Matbench folds, regenerated with scikit-learn exactly as Matbench does."""
from __future__ import annotations

import gzip
import json
from functools import lru_cache
from importlib import resources

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

from .tasks import FOLD_SEED, N_FOLDS, get_task


def official_folds(task: str, y) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train_idx, test_idx) for the 5 official folds; rows must be in mbid order.

    Regression: KFold(5, shuffle=True, random_state=18012019); classification: StratifiedKFold
    with the same arguments on the target.
    """
    t = get_task(task)
    y = np.asarray(y)
    X_dummy = np.zeros((len(y), 1))
    if t.is_classification:
        splitter = StratifiedKFold(n_splits=N_FOLDS, shuffle=True, random_state=FOLD_SEED)
        return list(splitter.split(X_dummy, y))
    splitter = KFold(n_splits=N_FOLDS, shuffle=True, random_state=FOLD_SEED)
    return list(splitter.split(X_dummy))


def folds_to_labels(folds, n: int) -> np.ndarray:
    """Test-fold number of each row."""
    labels = np.full(n, -1, dtype=int)
    for k, (_, test) in enumerate(folds):
        labels[test] = k
    return labels


@lru_cache(maxsize=1)
def _reference() -> dict:
    path = resources.files("assay.data") / "bundled" / "matbench_v0.1_test_folds.json.gz"
    with resources.as_file(path) as p, gzip.open(p, "rt") as fh:
        return json.load(fh)


def reference_fold_labels(task: str) -> np.ndarray:
    """The official test-fold labels recorded from matbench_v0.1_validation.json."""
    t = get_task(task)
    return np.array([int(c) for c in _reference()["folds"][t.name]], dtype=int)


def verify_official_folds(task: str, y) -> bool:
    """True when folds regenerated from ``y`` equal the recorded official ones."""
    ours = folds_to_labels(official_folds(task, y), len(y))
    ref = reference_fold_labels(task)
    return len(ours) == len(ref) and bool(np.array_equal(ours, ref))
