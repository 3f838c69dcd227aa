import functools
import gzip
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from assay.data import loading
from assay.data.download import download, sha256_of
from assay.data.errors import ChecksumError, DataNotAvailableError, InvalidDataError
from assay.data.loading import dataset_cache_path, load_task
from assay.data.tasks import TASKS, Task, get_task


@pytest.fixture
def http_dir(tmp_path):
    """A local HTTP server over a temporary folder; yields (folder, base_url)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_bundled_load():
    ds = load_task("expt_gap")
    assert ds.source["kind"] == "bundled"
    assert len(ds) == 4604 and ds.ids[0] == "mb-expt-gap-0001"
    assert ds.task_type == "regression" and ds.input_type == "composition"


def test_classification_target_is_int():
    ds = load_task("glass")
    assert set(ds.y().tolist()) == {0, 1}


def test_structures_are_pymatgen():
    from pymatgen.core import Structure

    ds = load_task("phonons")
    assert isinstance(ds.inputs.iloc[0], Structure)


def test_explicit_file_beats_everything(tmp_path):
    src = loading.bundled_path(get_task("steels"))
    f = tmp_path / "mine.json.gz"
    shutil.copy(src, f)
    ds = load_task("steels", f)
    assert ds.source["kind"] == "file" and ds.source["path"] == str(f)


def test_missing_explicit_file():
    with pytest.raises(DataNotAvailableError, match="does not exist"):
        load_task("steels", "/nonexistent/file.json.gz")


def test_cache_beats_bundled():
    t = get_task("steels")
    cached = dataset_cache_path(t)
    cached.parent.mkdir(parents=True)
    shutil.copy(loading.bundled_path(t), cached)
    assert load_task("steels").source["kind"] == "cache"


def test_wrong_columns_give_clear_error(tmp_path):
    f = tmp_path / "bad.json"
    f.write_text('{"index": [0], "columns": ["a", "b"], "data": [[1, 2]]}')
    with pytest.raises(InvalidDataError, match="yield strength"):
        load_task("steels", f)


def test_download_from_local_server(http_dir, monkeypatch):
    root, base = http_dir
    src = loading.bundled_path(get_task("steels"))
    name = "matbench_jdft2d"
    shutil.copy(src, root / f"{name}.json.gz")  # stand-in content served under a non-bundled name
    fake = Task(name=name, input_type="composition", target="yield strength", unit="MPa",
                task_type="regression", n_samples=312, mad=None, sha256=sha256_of(src),
                input_column="composition")
    monkeypatch.setitem(TASKS, name, fake)
    ds = load_task(name, base_url=base, progress=False)
    assert ds.source["kind"] == "download"
    assert dataset_cache_path(fake).is_file()
    assert len(ds) == 312
    # second load comes from the cache, no server needed
    assert load_task(name, allow_download=False).source["kind"] == "cache"


def test_checksum_mismatch_caches_nothing(http_dir, monkeypatch):
    root, base = http_dir
    name = "matbench_jdft2d"
    (root / f"{name}.json.gz").write_bytes(gzip.compress(b'{"corrupted": true}'))
    good = get_task(name)
    with pytest.raises(ChecksumError, match="Checksum mismatch"):
        load_task(name, base_url=base, progress=False)
    cached = dataset_cache_path(good)
    assert not cached.exists()
    assert not any(cached.parent.iterdir()) if cached.parent.exists() else True


def test_download_helper_verifies_and_is_atomic(http_dir, tmp_path):
    root, base = http_dir
    payload = b"x" * 100_000
    (root / "f.bin").write_bytes(payload)
    dest = tmp_path / "out" / "f.bin"
    download(f"{base}/f.bin", dest, hashlib.sha256(payload).hexdigest(), progress=False)
    assert dest.read_bytes() == payload
    with pytest.raises(ChecksumError):
        download(f"{base}/f.bin", tmp_path / "out" / "g.bin", "0" * 64, progress=False)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["f.bin"]


def test_offline_error_says_what_to_fetch_and_where(http_dir):
    _, base = http_dir  # server up, file absent -> HTTP 404
    with pytest.raises(DataNotAvailableError) as exc:
        load_task("mp_gap", base_url=base, progress=False)
    msg = str(exc.value)
    t = get_task("mp_gap")
    assert t.url in msg and str(dataset_cache_path(t)) in msg and t.sha256 in msg


def test_downloads_disabled():
    with pytest.raises(DataNotAvailableError, match="downloads are disabled"):
        load_task("dielectric", allow_download=False)
