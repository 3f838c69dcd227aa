"""A user's table file read into a DataFrame of raw cells, whatever its format.

CSV-like files are read as text (nothing silently turned into NaN or a number), JSON with the
json module (nested pymatgen dicts stay intact), parquet as stored. Every failure is an
InvalidDataError naming the file and saying what to do.
"""
from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import math
from pathlib import Path

import pandas as pd

from .errors import InvalidDataError

MISSING = {"", "nan", "na", "n/a", "null", "none"}
TEXT_KINDS = (".csv", ".tsv", ".tab", ".txt")
JSON_KINDS = (".json", ".jsonl", ".ndjson")
PARQUET_KINDS = (".parquet", ".pq")
ACCEPTED_FILES = ".csv, .tsv, .txt (tab- or comma-separated), .json, .jsonl or .parquet/.pq"
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}

__all__ = ["read_table", "is_missing", "hash_frame", "MISSING", "ACCEPTED_FILES"]


def is_missing(value) -> bool:
    """None, NaN, or text that spreadsheets write for 'no value' (empty, nan, NA, null, ...)."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in MISSING


def _split_suffix(path: Path) -> tuple[str, str]:
    """(the format suffix, the compression suffix or '')."""
    suffixes = [s.lower() for s in path.suffixes]
    packed = suffixes[-1] if suffixes and suffixes[-1] in (".gz", ".bz2", ".xz", ".zip") else ""
    if packed:
        suffixes = suffixes[:-1]
    return (suffixes[-1] if suffixes else ""), packed


def _text(path: Path, packed: str) -> str:
    opener = _OPENERS.get(packed, open)
    with opener(path, "rt", encoding="utf-8") as fh:
        return fh.read()


def _separator(header: str, kind: str) -> str:
    """Tab for .tsv; for .csv a comma unless the header has none but has tabs or semicolons
    (spreadsheet exports); for .txt whichever of tab, comma, semicolon the header uses most."""
    if kind in (".tsv", ".tab"):
        return "\t"
    counts = {sep: header.count(sep) for sep in ("\t", ",", ";")}
    if kind == ".csv" and counts[","]:
        return ","
    best = max(counts, key=counts.get)
    return best if counts[best] else ("," if kind == ".csv" else r"\s+")


def _read_delimited(path: Path, kind: str, packed: str) -> pd.DataFrame:
    if packed == ".zip":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    text = _text(path, packed).lstrip("\ufeff")
    if not text.strip():
        raise pd.errors.EmptyDataError
    sep = _separator(text.splitlines()[0], kind)
    # All text, nothing silently turned into NaN: every cell is checked by the loader instead.
    return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                       engine="python" if sep == r"\s+" else "c")


def _read_json(path: Path, packed: str, lines: bool) -> pd.DataFrame:
    """Records, columns or Matbench-style 'split' JSON; the json module keeps nested dicts
    (pymatgen structures) intact and never guesses dates the way pandas.read_json does."""
    text = _text(path, packed)
    if not text.strip():
        raise pd.errors.EmptyDataError
    try:
        if lines:
            obj = []
            for k, line in enumerate(text.splitlines(), 1):
                if line.strip():
                    try:
                        obj.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise InvalidDataError(f"{path}: line {k} is not valid JSON ({exc}); a "
                                               f".jsonl file holds one JSON object per line.")
        else:
            obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidDataError(f"{path} is not valid JSON: {exc}") from None
    if isinstance(obj, list):
        if obj and not all(isinstance(r, dict) for r in obj):
            raise InvalidDataError(f"{path}: a JSON list must hold one object per row.")
        return pd.DataFrame.from_records(obj) if obj else pd.DataFrame()
    if isinstance(obj, dict) and "columns" in obj and "data" in obj:  # orient="split"
        frame = pd.DataFrame(obj["data"], columns=obj["columns"])
        if "index" in obj and "id" not in frame.columns and len(obj["index"]) == len(frame):
            frame.insert(0, "id", [str(i) for i in obj["index"]])
        return frame
    if isinstance(obj, dict) and obj and all(isinstance(v, (list, dict)) for v in obj.values()):
        if all(isinstance(v, dict) for v in obj.values()):  # orient="columns": {col: {idx: value}}
            return pd.DataFrame({c: pd.Series(list(v.values())) for c, v in obj.items()})
        return pd.DataFrame(obj)
    raise InvalidDataError(
        f"{path}: expected a list of row objects, a {{column: values}} object or "
        f"pandas 'split' JSON.")


def read_table(path) -> tuple[pd.DataFrame, str, Path | None]:
    """(a private copy of the table, how to name it in messages, the file or None)."""
    if isinstance(path, pd.DataFrame):
        return path.copy(deep=True), "the DataFrame", None
    p = Path(path)
    if not p.exists():
        raise InvalidDataError(f"Data file {p} does not exist.")
    if p.is_dir():
        raise InvalidDataError(f"{p} is a folder; pass the table file (and structures_dir= for a "
                               f"folder of CIF files).")
    empty = (f"{p} is empty: it needs a header row naming the columns (an input column such as "
             f"'formula' or 'structure', and the target) and at least two data rows.")
    if p.stat().st_size == 0:
        raise InvalidDataError(empty)
    kind, packed = _split_suffix(p)
    try:
        if kind in TEXT_KINDS:
            frame = _read_delimited(p, kind, packed)
        elif kind in JSON_KINDS:
            frame = _read_json(p, packed, lines=kind != ".json")
        elif kind in PARQUET_KINDS:
            frame = pd.read_parquet(p)
        else:
            raise InvalidDataError(
                f"{p}: unknown file type {kind or '(none)'!r}; use {ACCEPTED_FILES} "
                f"(optionally gzipped).")
    except pd.errors.EmptyDataError:
        raise InvalidDataError(empty) from None
    except InvalidDataError:
        raise
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError, EOFError) as exc:
        raise InvalidDataError(f"Cannot read {p} as {kind or 'a table'}: {exc}") from None
    return frame, str(p), p


def hash_frame(frame: pd.DataFrame) -> str:
    text = frame.to_json(orient="split", default_handler=str)
    return hashlib.sha256(text.encode()).hexdigest()
