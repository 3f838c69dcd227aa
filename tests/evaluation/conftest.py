import numpy as np
import pytest

from assay.data.loading import load_task
from assay.features import featurize


@pytest.fixture(scope="session")
def steels():
    ds = load_task("steels", progress=False)
    X = featurize(ds.inputs, "magpie", input_type=ds.input_type, cache=False, progress=False).X
    return ds, X.to_numpy(float)


@pytest.fixture(scope="session")
def gap300():
    """300 rows of expt_gap: chemically diverse, small."""
    ds = load_task("expt_gap", progress=False)
    rows = np.sort(np.random.default_rng(0).choice(len(ds), 300, replace=False))
    sub = ds.subset(rows)
    X = featurize(sub.inputs, "magpie", input_type=sub.input_type, cache=False, progress=False).X
    return sub, X.to_numpy(float)
