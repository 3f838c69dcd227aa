import numpy as np
import pandas as pd
import pytest

from assay.data.folds import (MatbenchFolds, folds_to_labels, official_folds, reference_fold_labels,
                              verify_official_folds)
from assay.data.loading import load_task
from assay.data.tasks import get_task

AVAILABLE = ["expt_gap", "expt_is_metal", "glass", "steels", "phonons", "perovskites"]


@pytest.mark.parametrize("name", AVAILABLE)
def test_regenerated_folds_equal_official(name, shared_dir):
    path = shared_dir / f"matbench_{name}.json.gz"
    if name == "perovskites":
        if not path.is_file():
            pytest.skip("perovskites data not available")
        # only the target is needed for the folds; avoid building 18,928 Structures
        y = pd.read_json(path, orient="split")["e_form"].to_numpy()
    else:
        y = load_task(name).y()
    folds = official_folds(name, y)
    labels = folds_to_labels(folds, len(y))
    assert np.array_equal(labels, reference_fold_labels(name))
    assert verify_official_folds(name, y)
    # disjoint and complete
    allt = np.concatenate([t for _, t in folds])
    assert sorted(allt.tolist()) == list(range(len(y)))
    for train, test in folds:
        assert not set(train) & set(test)
    # the scikit-learn splitter gives the same folds, from y alone or with an X
    cv = MatbenchFolds(get_task(name).task_type)
    assert cv.get_n_splits() == 5
    for X in (None, np.zeros((len(y), 3))):
        assert np.array_equal(folds_to_labels(list(cv.split(X, y)), len(y)), reference_fold_labels(name))


def test_shuffled_classification_rows_are_detected():
    # stratified folds depend on the target order, so rows out of mbid order give other folds
    y = load_task("glass").y()
    rng = np.random.default_rng(0)
    assert not verify_official_folds("glass", rng.permutation(y))


def test_reference_exists_for_all_13_tasks():
    from assay.data.tasks import TASKS

    for t in TASKS.values():
        assert len(reference_fold_labels(t.name)) == t.n_samples


def test_matbench_folds_arguments():
    with pytest.raises(ValueError, match="stratifies on y"):
        list(MatbenchFolds("classification").split(np.zeros((10, 1))))
    with pytest.raises(ValueError, match="task_type"):
        list(MatbenchFolds("ranking").split(None, np.zeros(10)))
