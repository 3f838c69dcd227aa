"""Fixtures of the report tests: one small finished run shared by every test (and by both
xdist workers, through a file lock), and a headless-Chromium driver speaking the DevTools
protocol (assay.report.browser; skips when Chromium or websocket-client is absent)."""
from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest

from assay.report.browser import CDP, Chromium, ChromiumUnavailable

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def _config_kwargs(**wanted):
    """Only the settings this assay version's RunConfig knows (other stages add settings)."""
    from assay.run.config import RunConfig

    known = {f.name for f in dataclasses.fields(RunConfig)}
    return {k: v for k, v in wanted.items() if k in known}


def _build_or_reuse(base: Path, name: str, make) -> Path:
    """Build a run once per test session, shared between xdist workers."""
    from filelock import FileLock

    base.mkdir(parents=True, exist_ok=True)
    done = base / f"{name}.done"
    with FileLock(str(base / f"{name}.lock")):
        if not done.is_file():
            path = make(base / name)
            done.write_text(str(path))
    return Path(done.read_text())


@pytest.fixture(scope="session")
def shared_base(tmp_path_factory):
    root = tmp_path_factory.getbasetemp()
    return (root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root) / "report-runs"


def _small_run(out: Path) -> Path:
    from assay import Experiment

    old = os.environ.get("ASSAY_CACHE")
    os.environ["ASSAY_CACHE"] = str(out / "cache")
    try:
        kw = _config_kwargs(controls=["random-features"], learning_curve=True,
                            learning_curve_sizes=[0.3, 1.0])
        res = Experiment(task="steels", models=["dummy", "lgbm"], out_dir=str(out), n_jobs=2,
                         **kw).run(progress=False)
    finally:
        if old is None:
            os.environ.pop("ASSAY_CACHE", None)
        else:
            os.environ["ASSAY_CACHE"] = old
    return res.path


@pytest.fixture(scope="session")
def small_run(shared_base) -> Path:
    """steels, dummy + lgbm on the official folds (a finished run folder; do not modify it)."""
    return _build_or_reuse(shared_base, "steels", _small_run)


@pytest.fixture
def run_copy(small_run, tmp_path) -> Path:
    """A private copy of the small run that a test may change."""
    dst = tmp_path / small_run.name
    shutil.copytree(small_run, dst, ignore=shutil.ignore_patterns("report.*", "slides.html", "submission"))
    return dst


# ------------------------------------------------------------------------------------ chromium
@pytest.fixture(scope="session")
def browser():
    """Start headless Chromium once; yields open(url) -> CDP page client (already loaded)."""
    try:
        chromium = Chromium()
    except ChromiumUnavailable as exc:
        pytest.skip(str(exc))
    opened = []

    def open_page(url: str, width: int = 1280, height: int = 900) -> CDP:
        page = chromium.new_page()
        opened.append(page)
        for domain in ("Page", "Runtime", "Log"):
            page.call(f"{domain}.enable")
        page.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)
        page.events.clear()
        page.call("Page.navigate", url=url)
        page.wait_event("Page.loadEventFired")
        return page

    try:
        yield open_page
        for p in opened:
            p.close()
    finally:
        chromium.close()


def save_screenshot(page: CDP, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return page.screenshot(ARTIFACTS / name)


def evaluate(page: CDP, js: str):
    return page.evaluate(js)


@pytest.fixture(scope="session")
def cdp_helpers():
    return {"save_screenshot": save_screenshot, "evaluate": evaluate}
