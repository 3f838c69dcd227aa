"""report.ipynb walks the run's workflow as the student's own code: it executes offline, reads
what the run recorded (no featurising, no refitting, nothing written into the run folder), fits
only the student's model on the run's folds, leaves no temporary files, and prints the report's
numbers."""
from __future__ import annotations

import json
import re
import time

import pytest


def _outputs(nb) -> str:
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def _files(path):
    return {str(p.relative_to(path)): p.stat().st_mtime_ns for p in path.rglob("*") if p.is_file()}


def test_notebook_walks_the_workflow_on_the_runs_own_objects(run_copy, small_run, monkeypatch, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from assay.report.notebook import STEPS, execute_notebook, write_notebook
    from assay.report.report import ReportBuilder

    # offline: no proxy, no network for the kernel's process either
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    monkeypatch.setenv("ASSAY_CACHE", str(small_run.parent / "cache"))  # the cache the run filled
    monkeypatch.setenv("MPLBACKEND", "Agg")
    tmp = tmp_path / "tmp"  # the kernel's temporary folder: must be left empty
    tmp.mkdir()
    for var in ("TMPDIR", "TMP", "TEMP"):
        monkeypatch.setenv(var, str(tmp))
    b = ReportBuilder(run_copy)
    sections = b.build()
    path = write_notebook(b, sections)
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    heads = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown"]
    for i, title in enumerate(STEPS, 1):
        assert f"## {i}. {title}" in heads
    srcs = [c.source for c in nb.cells if c.cell_type == "code"]
    assert any("YOUR MODEL HERE" in s and "evaluate_on_run" in s for s in srcs)
    assert not any("Experiment(" in s or ".run(" in s for s in srcs)  # no replay of the run
    assert "Use of language models" in "\n".join(c.source for c in nb.cells)

    before = _files(run_copy)
    t0 = time.perf_counter()
    nb = execute_notebook(path, timeout=300)
    seconds = time.perf_counter() - t0
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    out = _outputs(nb)
    assert "read from the feature cache" in out  # not featurised again
    assert _files(run_copy) == before  # nothing refitted into, or written to, the run folder
    assert list(tmp.iterdir()) == []
    # the student's model: a score for every one of the run's folds
    line = re.search(r"my model: mae per fold: (.*)", out).group(1)
    assert [int(k) for k in re.findall(r"fold (\d+) ", line)] == list(range(b.run.n_folds))
    assert "my model [scrambled-target]" in out or any(
        "my model [scrambled-target]" in json.dumps(o.get("data", {})) for c in nb.cells
        if c.cell_type == "code" for o in c.outputs)
    # the numbers printed are the report's
    mu, sd = b.mean(b.run.primary_model)
    rank, n = b.facts.rank
    assert f"{b.run.primary_model}: mae {mu:.4g} ± {sd:.4g} -> rank {rank} of {n}" in out
    assert seconds < 240, seconds  # a replay of the run took minutes; this reads it


def test_user_values_land_in_code_cells_as_literals():
    """A model or task name from the user is data in the notebook's code, never code."""
    from assay.report import notebook_cells as C

    hostile = 'lgbm"; import os; os.remove("x") #\n'
    cell = C.code("PRIMARY = @PRIMARY@", PRIMARY=hostile)
    ns: dict = {}
    exec(compile(cell["source"], "cell", "exec"), ns)  # noqa: S102 - checking the literal
    assert ns["PRIMARY"] == hostile
    with pytest.raises(ValueError, match="unfilled"):
        C.code("x = @MISSING@")
    assert "&lt;script" in C.md("<script>alert(1)</script>")["source"]
