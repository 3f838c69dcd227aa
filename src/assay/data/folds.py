"""Official Matbench folds, regenerated with scikit-learn exactly as Matbench does."""
from __future__ import annotations

import gzip
import json
from functools import lru_cache
from importlib import resources

import numpy as np
from sklearn.model_selection import BaseCrossValidator, KFold, StratifiedKFold

from .tasks import FOLD_SEED, N_FOLDS, get_task


class MatbenchFolds(BaseCrossValidator):
    """Matbench's own outer folds as a scikit-learn splitter, so ``cross_validate`` and
    ``GridSearchCV`` can score on exactly the folds the leaderboard uses.

    Regression: KFold(5, shuffle=True, random_state=18012019); classification: StratifiedKFold
    with the same arguments on the target. Rows must be in mbid order.
    """

    def __init__(self, task_type: str = "regression"):
        self.task_type = task_type

    def _splitter(self):
        if self.task_type not in ("regression", "classification"):
            raise ValueError(f"task_type must be 'regression' or 'classification', "
                             f"not {self.task_type!r}")
        kind = StratifiedKFold if self.task_type == "classification" else KFold
        return kind(n_splits=N_FOLDS, shuffle=True, random_state=FOLD_SEED)

    def split(self, X, y=None, groups=None):
        splitter = self._splitter()
        if X is None:
            if y is None:
                raise ValueError("MatbenchFolds.split needs X or y to count the rows")
            X = np.zeros((len(y), 1))
        if self.task_type == "classification":
            if y is None:
                raise ValueError("MatbenchFolds('classification') stratifies on y: pass y")
            yield from splitter.split(X, np.asarray(y))
        else:
            yield from splitter.split(X)

    def get_n_splits(self, X=None, y=None, groups=None):
        return N_FOLDS


def official_folds(task: str, y) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train_idx, test_idx) for the 5 official folds; rows must be in mbid order."""
    t = get_task(task)
    y = np.asarray(y)
    return list(MatbenchFolds(t.task_type).split(np.zeros((len(y), 1)), y))


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
