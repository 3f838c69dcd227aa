"""Fixtures of the report tests: one small finished run shared by every test (and by both
xdist workers, through a file lock), and a headless-Chromium driver speaking the DevTools
protocol (skips when Chromium or websocket-client is absent)."""
from __future__ import annotations

import base64
import dataclasses
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

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
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CDP:
    """A minimal DevTools-protocol client for one page."""

    def __init__(self, ws_url: str):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.n = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.n += 1
        my = self.n
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, name: str, timeout: float = 60) -> dict:
        end = time.monotonic() + timeout
        for e in self.events:
            if e["method"] == name:
                return e
        while time.monotonic() < end:
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == name:
                    return msg
        raise TimeoutError(name)

    def errors(self) -> list[str]:
        out = []
        for e in self.events:
            m, p = e["method"], e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console: " + " ".join(str(a.get("value", a.get("description")))
                                                   for a in p.get("args", [])))
            elif m == "Runtime.exceptionThrown":
                out.append("exception: " + json.dumps(p.get("exceptionDetails", {}))[:500])
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append("log: " + p["entry"].get("text", ""))
        return out

    def close(self):
        self.ws.close()


@pytest.fixture(scope="session")
def browser():
    """Start headless Chromium once; yields open(url) -> CDP page client (already loaded)."""
    exe = _chromium()
    if exe is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    pytest.importorskip("websocket", reason="websocket-client is not installed")
    port = _free_port()
    profile = tempfile.mkdtemp(prefix="assay-chromium-")
    log = open(Path(profile) / "stderr.log", "wb")
    proc = subprocess.Popen(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", f"--user-data-dir={profile}", f"--remote-debugging-port={port}",
         "--remote-allow-origins=*", "about:blank"], stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/json/version", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > end:
                    pytest.skip(f"chromium did not start: {(Path(profile) / 'stderr.log').read_text()[-500:]}")
                time.sleep(0.3)

        opened = []

        def open_page(url: str, width: int = 1280, height: int = 900) -> CDP:
            req = urllib.request.Request(base + "/json/new?about:blank", method="PUT")
            target = json.loads(urllib.request.urlopen(req, timeout=10).read())
            page = CDP(target["webSocketDebuggerUrl"])
            opened.append(page)
            for domain in ("Page", "Runtime", "Log"):
                page.call(f"{domain}.enable")
            page.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                      deviceScaleFactor=1, mobile=False)
            page.events.clear()
            page.call("Page.navigate", url=url)
            page.wait_event("Page.loadEventFired")
            return page

        yield open_page
        for p in opened:
            p.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(profile, ignore_errors=True)


def save_screenshot(page: CDP, name: str) -> Path:
    data = page.call("Page.captureScreenshot", format="png")["data"]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    path.write_bytes(base64.b64decode(data))
    return path


def evaluate(page: CDP, js: str):
    r = page.call("Runtime.evaluate", expression=js, returnByValue=True, awaitPromise=True)
    if "exceptionDetails" in r:
        raise RuntimeError(json.dumps(r["exceptionDetails"])[:500])
    return r["result"].get("value")


@pytest.fixture(scope="session")
def cdp_helpers():
    return {"save_screenshot": save_screenshot, "evaluate": evaluate}
