"""Checksum-verified downloads written atomically: a file in the cache is always whole and right."""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from pathlib import Path

from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

from .errors import ChecksumError

CHUNK = 1 << 16


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def download(url: str, dest: str | os.PathLike, sha256: str | None, *, timeout: float = 60.0,
             progress: bool = True) -> Path:
    """Fetch ``url`` into ``dest``; verify SHA-256 before the file appears at ``dest``.

    The bytes go to a temporary file in the destination folder and are renamed into place only
    after the checksum matches, so an interrupted or corrupted download never leaves a file behind.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                          TransferSpeedColumn(), TimeRemainingColumn(), disable=not progress,
                          transient=True) as bar:
                job = bar.add_task(f"download {dest.name}", total=total)
                for block in iter(lambda: resp.read(CHUNK), b""):
                    out.write(block)
                    h.update(block)
                    bar.advance(job, len(block))
        got = h.hexdigest()
        if sha256 is not None and got != sha256.lower():
            raise ChecksumError(
                f"Checksum mismatch for {url}: expected SHA-256 {sha256}, got {got}. "
                f"The file was discarded; nothing was written to {dest}.")
        os.replace(tmp, dest)
        return dest
    finally:
        if tmp.exists():
            tmp.unlink()
