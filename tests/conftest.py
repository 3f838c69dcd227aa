import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "matbench"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own empty cache: no test sees another's downloads or features."""
    monkeypatch.setenv("ASSAY_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def shared_dir():
    return SHARED
