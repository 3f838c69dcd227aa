"""Where a Matbench dataset comes from: the user's file > the cache > the bundled copy > a download."""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pandas as pd
from pymatgen.core import Structure

from .dataset import Dataset
from .download import download, sha256_of
from .errors import DataNotAvailableError, InvalidDataError
from .tasks import Task, get_task


def cache_dir() -> Path:
    """Root of assay's on-disk cache (datasets, features); ``ASSAY_CACHE`` overrides it."""
    root = os.environ.get("ASSAY_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "assay")
    return Path(root)


def dataset_cache_path(task: Task) -> Path:
    return cache_dir() / "datasets" / task.filename


def bundled_path(task: Task) -> Path | None:
    if not task.bundled:
        return None
    ref = resources.files("assay.data") / "bundled" / task.filename
    return Path(str(ref)) if ref.is_file() else None


def locate_task_file(task: Task, path: str | os.PathLike | None = None, *,
                     allow_download: bool = True, base_url: str | None = None,
                     progress: bool = True) -> tuple[Path, str]:
    """The file to read for ``task`` and how it was found (file, cache, bundled, download)."""
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise DataNotAvailableError(f"Data file {p} does not exist.")
        return p, "file"
    cached = dataset_cache_path(task)
    if cached.is_file():
        return cached, "cache"
    bundled = bundled_path(task)
    if bundled is not None:
        return bundled, "bundled"
    url = (base_url.rstrip("/") + "/" + task.filename) if base_url else task.url
    if allow_download:
        try:
            return download(url, cached, task.sha256, progress=progress), "download"
        except OSError as exc:  # URLError, timeouts, refused connections
            reason = f"the download from {url} failed ({exc})"
        # ChecksumError propagates: a corrupted file must not be mistaken for "offline"
    else:
        reason = "downloads are disabled"
    raise DataNotAvailableError(
        f"{task.name} is not bundled with assay and no cached copy exists; {reason}.\n"
        f"Fetch {task.url} (SHA-256 {task.sha256}) and save it as {cached}, "
        f"or pass the file explicitly (assay run {task.short} --data PATH).")


def read_matbench_file(path: Path, task: Task) -> tuple[pd.Series, pd.Series]:
    """Read a Matbench 'split'-orient json(.gz) into (inputs, target)."""
    try:
        df = pd.read_json(path, orient="split")
    except ValueError as exc:
        raise InvalidDataError(f"{path} is not a Matbench JSON file in 'split' orient: {exc}") from exc
    if task.target not in df.columns or len(df.columns) != 2:
        raise InvalidDataError(
            f"{path} has columns {list(df.columns)}; {task.name} needs an input column and "
            f"the target {task.target!r}.")
    input_col = [c for c in df.columns if c != task.target][0]
    inputs = df[input_col]
    if task.input_type == "structure":
        inputs = pd.Series([Structure.from_dict(d) for d in inputs], index=df.index, name="structure")
    else:
        inputs = inputs.astype(str).rename("composition")
    return inputs, df[task.target]


def load_task(name: str, path: str | os.PathLike | None = None, *, allow_download: bool = True,
              base_url: str | None = None, progress: bool = True) -> Dataset:
    """Load a Matbench v0.1 task, rows in official mbid order."""
    task = get_task(name)
    file, origin = locate_task_file(task, path, allow_download=allow_download,
                                    base_url=base_url, progress=progress)
    inputs, target = read_matbench_file(file, task)
    if task.is_classification:
        target = target.astype(bool).astype(int)
    return Dataset(name=task.name, inputs=inputs, target=target, input_type=task.input_type,
                   task_type=task.task_type, target_name=task.target, unit=task.unit, task=task,
                   source={"kind": origin, "path": str(file), "sha256": sha256_of(file),
                           "official_url": task.url})
