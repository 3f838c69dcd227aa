"""report.ipynb re-creates the run through the Python API and runs offline top to bottom."""
from __future__ import annotations

import json

import pytest


def test_notebook_executes_offline_and_reproduces_the_run(run_copy, monkeypatch, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from assay.report.notebook import execute_notebook, write_notebook
    from assay.report.report import SECTIONS, ReportBuilder

    # offline: no proxy, no network for the kernel's process either
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    monkeypatch.setenv("ASSAY_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    b = ReportBuilder(run_copy)
    sections = b.build()
    path = write_notebook(b, sections)
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    heads = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown"]
    for i, (_, title) in enumerate(SECTIONS, 1):
        assert f"## {i}. {title}" in heads
    nb = execute_notebook(path, timeout=600)
    out = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "recomputed scores match the recorded run: True" in out
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    assert json.loads(nbformat.writes(nb))["cells"]
