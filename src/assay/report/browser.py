"""Headless Chromium, to look at the report and the slides as a reader would.

One way to start it for the report's browser tests and benchmarks/screenshots.py, so both see
the same browser with the same flags. Chromium and websocket-client are optional: ``find_chromium``
says None when there is no Chromium, and :class:`Chromium` raises :class:`ChromiumUnavailable`
(the tests skip on it) when it cannot start or websocket-client is missing.
"""
from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

try:  # websocket-client: optional (the test extra), needed only to drive pages
    import websocket
except ImportError:  # pragma: no cover
    websocket = None

__all__ = ["CHROMIUM_NAMES", "CDP", "Chromium", "ChromiumUnavailable", "find_chromium", "print_to_pdf"]

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
#: Headless, sandbox-free (containers), and quiet: nothing fetched from the network on its own.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")


class ChromiumUnavailable(RuntimeError):
    """No Chromium, no websocket-client, or a Chromium that did not start (its stderr said why)."""


def find_chromium() -> str | None:
    """The first Chromium-like browser on PATH, or None."""
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


def print_to_pdf(url: str, pdf: Path, exe: str | None = None, timeout: int = 120) -> Path:
    """Print a page to PDF the way a browser prints it (no header or footer)."""
    exe = exe or find_chromium()
    if exe is None:
        raise ChromiumUnavailable("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="assay-chromium-") as profile:
        subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
                        f"--print-to-pdf={pdf}", url], check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Path(pdf)


class CDP:
    """A minimal DevTools-protocol client for one page; events that arrive between answers are kept."""

    def __init__(self, ws_url: str, timeout: float = 60):
        self.ws = websocket.create_connection(ws_url, timeout=timeout, suppress_origin=True)
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

    def evaluate(self, js: str):
        """The value of a JavaScript expression (promises awaited); a thrown error is raised."""
        r = self.call("Runtime.evaluate", expression=js, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(json.dumps(r["exceptionDetails"])[:500])
        return r["result"].get("value")

    def screenshot(self, png: Path) -> Path:
        """The window as a PNG file."""
        png = Path(png)
        png.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))
        return png

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries seen so far."""
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


class Chromium:
    """A headless Chromium process with a DevTools endpoint; ``new_page`` opens a tab to drive.

    ``extra_flags`` are added to :data:`FLAGS` (e.g. ``--hide-scrollbars`` for screenshots).
    """

    def __init__(self, exe: str | None = None, extra_flags: tuple[str, ...] = (), start_timeout: float = 60):
        self.exe = exe or find_chromium()
        if self.exe is None:
            raise ChromiumUnavailable("chromium is not installed (apt-get install chromium)")
        if websocket is None:
            raise ChromiumUnavailable("websocket-client is not installed (pip install websocket-client)")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.profile = tempfile.mkdtemp(prefix="assay-chromium-")
        self._log = open(Path(self.profile) / "stderr.log", "wb")
        self.proc = subprocess.Popen(
            [self.exe, *FLAGS, *extra_flags, f"--user-data-dir={self.profile}", f"--remote-debugging-port={port}",
             "--remote-allow-origins=*", "about:blank"], stdout=subprocess.DEVNULL, stderr=self._log)
        self.base = f"http://127.0.0.1:{port}"
        end = time.monotonic() + start_timeout
        while True:
            try:
                urllib.request.urlopen(self.base + "/json/version", timeout=2).read()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > end:
                    why = (Path(self.profile) / "stderr.log").read_text(errors="replace")[-500:]
                    self.close()
                    raise ChromiumUnavailable(f"chromium did not start: {why}") from None
                time.sleep(0.3)

    def new_page(self, timeout: float = 60) -> CDP:
        """A fresh tab (about:blank); ``timeout``: seconds to wait for any one answer."""
        req = urllib.request.Request(self.base + "/json/new?about:blank", method="PUT")
        target = json.loads(urllib.request.urlopen(req, timeout=10).read())
        return CDP(target["webSocketDebuggerUrl"], timeout=timeout)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
