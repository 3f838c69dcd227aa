"""Shared, session-scoped inputs: real formulas from the bundled Matbench tasks."""
import warnings

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Never read or write the user's real feature cache."""
    monkeypatch.setenv("ASSAY_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def formulas():
    """1,070 real formulas: every task's formulas, deterministically sampled, steels included."""
    from assay.data.loading import load_task

    rng = np.random.default_rng(0)
    out = []
    for task, k in (("expt_gap", 520), ("expt_is_metal", 250), ("glass", 200), ("steels", 100)):
        f = list(load_task(task, allow_download=False, progress=False).inputs)
        out += [f[i] for i in sorted(rng.choice(len(f), size=min(k, len(f)), replace=False))]
    return out


@pytest.fixture(scope="session")
def compositions(formulas):
    from pymatgen.core import Composition

    return [Composition(f) for f in formulas]


@pytest.fixture(scope="session")
def phonon_structures():
    from assay.data.loading import load_task

    s = load_task("phonons", allow_download=False, progress=False).inputs
    return s.iloc[:40]


@pytest.fixture(scope="session")
def reference():
    return _reference


def _reference(fz, comps):
    """matminer's own per-row results, NaN rows where it raises, and which rows raised."""
    width = len(fz.feature_labels())
    rows, errs = [], set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, c in enumerate(comps):
            try:
                rows.append(np.asarray(fz.featurize(c), dtype=float))
            except Exception:
                errs.add(i)
                rows.append(np.full(width, np.nan))
    return np.array(rows).reshape(len(comps), width), errs
