"""The user's own data turned into a Dataset, with every bad row reported at once.

A modelling run that fails on row 3,117 after an hour is the worst way to learn that a formula is
misspelt, so everything is checked up front and all problems are listed together, each with its
1-based data row number (row 1 is the first row under the header) and id.

Task type rule (when ``task_type`` is None): the target is *classification* when its non-missing
values are bools or the words true/false/yes/no (any case; 0/1 may be mixed in), or are exactly
the two values 0 and 1 (written as integers, ``0.0``/``1.0`` or text); anything else, including
a column of only 1s, is *regression*. Pass
``task_type`` to override, e.g. for labels written as words ("metal"/"insulator"), which are then
coded 0, 1, ... in sorted order (the mapping is kept in ``source["class_labels"]``).
"""
from __future__ import annotations

import difflib
import gzip
import hashlib
import json
import math
import warnings
from numbers import Number
from pathlib import Path

import numpy as np
import pandas as pd
from pymatgen.core import Structure

from .chemistry import FormulaError, parse_formula, unknown_elements
from .dataset import Dataset
from .download import sha256_of
from .errors import InvalidDataError

FORMULA_COLUMNS = ("formula", "composition")
STRUCTURE_COLUMNS = ("structure", "cif", "poscar")
ID_COLUMNS = ("id", "material_id", "mbid", "name", "structure_id", "filename", "file")
MISSING = {"", "nan", "na", "n/a", "null", "none"}
TRUE_WORDS = {"true", "yes"}
FALSE_WORDS = {"false", "no"}
TASK_TYPES = ("regression", "classification")

__all__ = ["load_user_data", "parse_structure", "parse_structure_column", "infer_task_type"]


# ----------------------------------------------------------------------------------- reading
def _split_suffix(path: Path) -> tuple[str, bool]:
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] in (".gz", ".bz2", ".xz", ".zip")
    if gz:
        suffixes = suffixes[:-1]
    return (suffixes[-1] if suffixes else ""), gz


def _read_json(path: Path, gz: bool, lines: bool) -> pd.DataFrame:
    """Records, columns or Matbench-style 'split' JSON; the json module keeps nested dicts
    (pymatgen structures) intact and never guesses dates the way pandas.read_json does."""
    opener = gzip.open if gz else open
    with opener(path, "rt", encoding="utf-8") as fh:
        text = fh.read()
    if not text.strip():
        raise InvalidDataError(f"{path} is empty.")
    try:
        if lines:
            obj = [json.loads(line) for line in text.splitlines() if line.strip()]
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


def _read_table(path) -> tuple[pd.DataFrame, str, Path | None]:
    """(a private copy of the table, how to name it in messages, the file or None)."""
    if isinstance(path, pd.DataFrame):
        return path.copy(deep=True), "the DataFrame", None
    p = Path(path)
    if not p.exists():
        raise InvalidDataError(f"Data file {p} does not exist.")
    if p.is_dir():
        raise InvalidDataError(f"{p} is a folder; pass the table file (and structures_dir= for a "
                               f"folder of CIF files).")
    if p.stat().st_size == 0:
        raise InvalidDataError(f"{p} is empty.")
    kind, gz = _split_suffix(p)
    try:
        if kind in (".csv", ".tsv", ".tab", ".txt"):
            sep = "," if kind == ".csv" else ("\t" if kind in (".tsv", ".tab") else None)
            # All text, nothing silently turned into NaN: every cell is checked here instead.
            frame = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False,
                                engine="python" if sep is None else "c")
        elif kind in (".json", ".jsonl", ".ndjson"):
            frame = _read_json(p, gz, lines=kind != ".json")
        elif kind in (".parquet", ".pq"):
            frame = pd.read_parquet(p)
        else:
            raise InvalidDataError(
                f"{p}: unknown file type {kind or '(none)'!r}; use .csv, .tsv, .json, .jsonl or "
                f".parquet (optionally gzipped).")
    except pd.errors.EmptyDataError:
        raise InvalidDataError(f"{p} is empty.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        if isinstance(exc, InvalidDataError):
            raise
        raise InvalidDataError(f"Cannot read {p}: {exc}") from None
    return frame, str(p), p


def _hash_frame(frame: pd.DataFrame) -> str:
    text = frame.to_json(orient="split", default_handler=str)
    return hashlib.sha256(text.encode()).hexdigest()


# ----------------------------------------------------------------------------------- columns
def _describe_columns(frame: pd.DataFrame) -> str:
    return ", ".join(repr(c) for c in frame.columns) or "(none)"


def _require_column(frame: pd.DataFrame, column, role: str, shown: str):
    if column in frame.columns:
        return column
    close = difflib.get_close_matches(str(column), [str(c) for c in frame.columns], n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise InvalidDataError(f"{shown} has no {role} column {column!r}.{hint} "
                           f"Its columns are: {_describe_columns(frame)}.")


def _find_named(frame: pd.DataFrame, names, exclude=()) -> str | None:
    lower = {str(c).strip().lower(): c for c in frame.columns if c not in exclude}
    for n in names:
        if n in lower:
            return lower[n]
    return None


def _looks_like_structure(value) -> bool:
    if isinstance(value, (dict, Structure)):
        return True
    return isinstance(value, str) and ("\n" in value.strip() or value.lstrip().startswith("{"))


def _column_is_structure(values) -> bool:
    filled = [v for v in values if not _is_missing(v)]
    return bool(filled) and sum(map(_looks_like_structure, filled)) * 2 > len(filled)


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in MISSING


# -------------------------------------------------------------------------------- structures
def parse_structure(value) -> Structure:
    """A Structure from CIF or POSCAR text or a pymatgen dict (or its JSON); ValueError says why."""
    if isinstance(value, Structure):
        s, kind = value, "structure"
    elif _is_missing(value):
        raise ValueError("empty structure")
    elif isinstance(value, dict) or (isinstance(value, str) and value.lstrip().startswith("{")):
        kind = "pymatgen structure dict"
        try:
            d = json.loads(value) if isinstance(value, str) else value
            s = Structure.from_dict(d)
        except Exception as exc:
            raise ValueError(f"unparsable {kind} ({type(exc).__name__}: {exc})") from None
    elif isinstance(value, str):
        text = value.strip()
        kind = "CIF" if ("data_" in text or "_cell_length" in text) else "POSCAR"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                s = Structure.from_str(text, fmt="cif" if kind == "CIF" else "poscar")
        except Exception as exc:
            raise ValueError(f"unparsable {kind} ({type(exc).__name__}: {exc})") from None
    else:
        raise ValueError(f"a structure must be CIF/POSCAR text or a pymatgen dict, "
                         f"got {type(value).__name__}")
    if len(s) == 0:
        raise ValueError(f"{kind} has no atoms")
    unknown = unknown_elements(s.composition)
    if unknown:
        raise ValueError(f"unknown element {', '.join(unknown)} in {kind}")
    return s


def parse_structure_column(values, column: str = "structure") -> pd.Series:
    """Structures for every value (same index), or InvalidDataError listing each bad row."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values))
    out, problems = [], []
    for i, v in enumerate(series):
        try:
            out.append(parse_structure(v))
        except ValueError as exc:
            out.append(None)
            problems.append((i + 1, str(series.name or column), str(exc)))
    if problems:
        raise InvalidDataError(f"{len(problems)} of {len(series)} structures cannot be read.",
                               problems)
    return pd.Series(out, index=series.index, name=series.name or column, dtype=object)


def _read_cif(path: Path) -> Structure:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ValueError(f"cannot read {path.name} ({exc})") from None
    if not text.strip():
        raise ValueError(f"{path.name} is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = Structure.from_str(text, fmt="cif")
    except Exception as exc:
        raise ValueError(f"unparsable CIF {path.name} ({type(exc).__name__}: {exc})") from None
    unknown = unknown_elements(s.composition)
    if unknown:
        raise ValueError(f"unknown element {', '.join(unknown)} in {path.name}")
    return s


def _cif_files(folder: Path) -> dict[str, Path]:
    return {f.stem: f for f in sorted(folder.iterdir())
            if f.is_file() and f.suffix.lower() == ".cif"}


def _id_text(value) -> str | None:
    if _is_missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# ------------------------------------------------------------------------------------ target
def _token(value):
    """('missing'|'bool'|'num'|'text'|'inf', value) for one raw target cell."""
    if isinstance(value, (bool, np.bool_)):
        return "bool", bool(value)
    if _is_missing(value):
        return "missing", None
    if isinstance(value, Number):
        x = float(value)
        return ("inf", value) if math.isinf(x) else ("num", x)
    text = str(value).strip()
    low = text.lower()
    if low in TRUE_WORDS or low in FALSE_WORDS:
        return "bool", low in TRUE_WORDS
    try:
        x = float(text)
    except ValueError:
        return "text", text
    if math.isnan(x):
        return "missing", None
    return ("inf", text) if math.isinf(x) else ("num", x)


def infer_task_type(values) -> str:
    """'classification' for bools or true/false words (even if only one of them occurs, so a
    one-class column is refused rather than regressed), or exactly {0, 1}; else 'regression'."""
    seen, any_bool = set(), False
    for kind, v in map(_token, values):
        if kind == "missing":
            continue
        if kind == "bool":
            seen.add(int(v))
            any_bool = True
        elif kind == "num" and float(v).is_integer():
            seen.add(int(v))
        else:
            return "regression"
    return "classification" if seen == {0, 1} or (any_bool and seen <= {0, 1}) else "regression"


def _targets(values, task_type: str):
    """(coded targets, {position: reason}, label mapping or None)."""
    tokens = [_token(v) for v in values]
    bad: dict[int, str] = {}
    out: list = [None] * len(tokens)
    what = "target" if task_type == "regression" else "class label"
    for i, (kind, v) in enumerate(tokens):
        if kind == "missing":
            bad[i] = f"{what} is missing (empty or NaN)"
        elif kind == "inf":
            bad[i] = f"{what} {v!r} is not finite"
    if task_type == "regression":
        for i, (kind, v) in enumerate(tokens):
            if kind in ("num", "bool"):
                out[i] = float(v)
            elif kind == "text":
                bad[i] = f"target {v!r} is not a number"
        return out, bad, None
    labels = {}
    for i, (kind, v) in enumerate(tokens):
        if kind == "bool":
            labels[i] = int(v)
        elif kind == "num":
            if float(v).is_integer():
                labels[i] = int(v)
            else:
                bad[i] = f"class label {v:g} is not a whole number"
        elif kind == "text":
            labels[i] = v
    mapping = None
    if any(isinstance(v, str) for v in labels.values()):
        names = sorted({str(v) for v in labels.values()})
        mapping = {name: code for code, name in enumerate(names)}
        labels = {i: mapping[str(v)] for i, v in labels.items()}
    for i, v in labels.items():
        out[i] = v
    return out, bad, mapping


# -------------------------------------------------------------------------------------- main
def load_user_data(path, target: str, *, input_column: str | None = None,
                   id_column: str | None = None, task_type: str | None = None,
                   structures_dir=None, name: str | None = None,
                   drop_invalid: bool = False) -> Dataset:
    """Load a user's table (CSV/TSV, JSON, parquet, or a DataFrame) into a Dataset.

    Inputs are a formula column (auto-detected: ``formula``/``composition``), a structure column
    of CIF text, POSCAR text or pymatgen dicts (``structure``/``cif``/``poscar``), or, with
    ``structures_dir``, one ``<id>.cif`` file per row named by ``id_column`` (auto-detected:
    ``id``, ``material_id``, ``name``, ``filename``, ... or the column matching the file names).
    Without an id column (default: a column named ``id`` if present) rows are named ``row-<n>``.

    Invalid rows raise InvalidDataError listing every problem as (row, column, reason); with
    ``drop_invalid=True`` they are dropped and listed in ``source["dropped_rows"]``.
    """
    if task_type not in (None, *TASK_TYPES):
        raise ValueError(f"task_type must be one of {TASK_TYPES} or None, not {task_type!r}")
    frame, shown, file = _read_table(path)
    if len(frame) == 0:
        raise InvalidDataError(f"{shown} has no data rows (columns: {_describe_columns(frame)}).")
    target_col = _require_column(frame, target, "target", shown)

    folder = Path(structures_dir) if structures_dir is not None else None
    if folder is not None and not folder.is_dir():
        raise InvalidDataError(f"Structures folder {folder} does not exist.")
    if folder is not None and input_column is not None:
        raise ValueError("pass either structures_dir (a folder of CIF files) or input_column, "
                         "not both")

    # id column: named, or for a CIF folder the column that names the files
    cif_files = _cif_files(folder) if folder is not None else {}
    if folder is not None and not cif_files:
        raise InvalidDataError(f"Structures folder {folder} holds no .cif files.")
    if id_column is not None:
        id_col = _require_column(frame, id_column, "id", shown)
    elif folder is not None:
        id_col = _find_named(frame, ID_COLUMNS, exclude=(target_col,)) or _best_stem_column(
            frame, cif_files, exclude=(target_col,))
        if id_col is None:
            raise InvalidDataError(
                f"{shown} has no column naming the CIF files in {folder} (e.g. 'mp-149' for "
                f"mp-149.cif); pass id_column=. Its columns are: {_describe_columns(frame)}.")
    else:
        id_col = _find_named(frame, ("id",), exclude=(target_col,))

    # input column and its kind
    if folder is not None:
        input_col, input_type = None, "structure"
    else:
        if input_column is not None:
            input_col = _require_column(frame, input_column, "input", shown)
            named_structure = str(input_col).strip().lower() in STRUCTURE_COLUMNS
            input_type = ("structure" if named_structure or _column_is_structure(frame[input_col])
                          else "composition")
        else:
            excl = (target_col, id_col)
            input_col = _find_named(frame, STRUCTURE_COLUMNS, exclude=excl)
            input_type = "structure"
            if input_col is None:
                input_col = _find_named(frame, FORMULA_COLUMNS, exclude=excl)
                input_type = "composition"
            if input_col is None:
                raise InvalidDataError(
                    f"{shown} has no input column: looked for {', '.join(FORMULA_COLUMNS)} "
                    f"(formulas) or {', '.join(STRUCTURE_COLUMNS)} (structures), any case. "
                    f"Its columns are: {_describe_columns(frame)}. Pass input_column=, or "
                    f"structures_dir= for a folder of CIF files.")
        if input_col == target_col:
            raise ValueError(f"the input column and the target column are both {target_col!r}")

    n = len(frame)
    problems: list[tuple[int, str, str]] = []

    # ids
    raw_ids = [_id_text(v) for v in frame[id_col]] if id_col is not None else [None] * n
    first_row: dict[str, int] = {}
    for i, rid in enumerate(raw_ids):
        if id_col is None:
            continue
        if rid is None:
            problems.append((i + 1, str(id_col), "missing id"))
        elif rid in first_row:
            problems.append((i + 1, str(id_col),
                             f"duplicated id {rid!r} (first seen in row {first_row[rid]})"))
        else:
            first_row[rid] = i + 1
    ids = [rid if rid is not None else f"row-{i + 1}" for i, rid in enumerate(raw_ids)]
    if id_col is None:
        ids = [f"row-{i + 1}" for i in range(n)]

    # inputs
    inputs: list = [None] * n
    hashes: list[tuple[str, str]] = []
    if folder is not None:
        col = f"{folder.name}/<id>.cif"
        for i, rid in enumerate(raw_ids):
            if rid is None:
                continue
            stem = rid[:-4] if rid.lower().endswith(".cif") else rid
            f = cif_files.get(stem)
            if f is None:
                problems.append((i + 1, col, f"missing CIF file {stem + '.cif'!r} in {folder}"))
                continue
            try:
                inputs[i] = _read_cif(f)
                hashes.append((f.name, sha256_of(f)))
            except ValueError as exc:
                problems.append((i + 1, col, str(exc)))
    elif input_type == "structure":
        for i, v in enumerate(frame[input_col]):
            try:
                inputs[i] = parse_structure(v)
            except ValueError as exc:
                problems.append((i + 1, str(input_col), str(exc)))
    else:
        for i, v in enumerate(frame[input_col]):
            try:
                parse_formula(v)
                inputs[i] = v.strip()
            except FormulaError as exc:
                problems.append((i + 1, str(input_col), str(exc)))

    # target
    raw_target = list(frame[target_col])
    inferred = task_type is None
    if inferred:
        task_type = infer_task_type(raw_target)
    coded, bad, mapping = _targets(raw_target, task_type)
    problems += [(i + 1, str(target_col), why) for i, why in bad.items()]
    if task_type == "regression" and inferred and bad and len(bad) == n and all(
            "not a number" in why for why in bad.values()):
        hint = " (for text class labels pass task_type='classification')"
        problems = [(r, c, w + hint if c == str(target_col) else w) for r, c, w in problems]

    problems.sort(key=lambda p: p[0])
    shown_problems = problems if id_col is None else [
        (r, c, f"{w} [id {ids[r - 1]!r}]") for r, c, w in problems]
    bad_rows = sorted({r for r, _, _ in problems})
    if problems and not drop_invalid:
        raise InvalidDataError(
            f"{shown}: {len(bad_rows)} of {n} rows are invalid ({len(problems)} problems). "
            f"Fix them, or pass drop_invalid=True to leave them out.", shown_problems)
    if len(bad_rows) == n:
        raise InvalidDataError(f"{shown}: no valid rows are left after dropping the invalid ones.",
                               shown_problems)

    dropped = []
    for r in bad_rows:
        reasons = [f"{c}: {w}" for rr, c, w in problems if rr == r]
        dropped.append({"row": r, "id": ids[r - 1], "reason": "; ".join(reasons)})
    bad_set = set(bad_rows)
    keep = [i for i in range(n) if (i + 1) not in bad_set]
    index = pd.Index([ids[i] for i in keep], name="id")
    target_series = pd.Series([coded[i] for i in keep], index=index, name=str(target_col),
                              dtype=int if task_type == "classification" else float)
    input_series = pd.Series([inputs[i] for i in keep], index=index, name=input_type,
                             dtype=object)

    if task_type == "classification":
        classes = sorted(set(target_series))
        if len(classes) < 2:
            label = classes[0] if mapping is None else next(k for k, c in mapping.items()
                                                           if c == classes[0])
            raise InvalidDataError(
                f"{shown}: the classification target {target_col!r} has one class only "
                f"({label!r} in all {len(target_series)} usable rows); a classifier needs two.")

    source = {"kind": "user", "path": str(file.resolve()) if file is not None else shown,
              "sha256": sha256_of(file) if file is not None else _hash_frame(frame),
              "input_column": None if input_col is None else str(input_col),
              "id_column": None if id_col is None else str(id_col),
              "target_column": str(target_col), "task_type_inferred": inferred,
              "n_rows_read": n, "n_rows_used": len(keep)}
    if folder is not None:
        digest = hashlib.sha256("".join(f"{a}\0{b}\n" for a, b in sorted(hashes)).encode())
        source.update({"structures_dir": str(folder), "structures_sha256": digest.hexdigest(),
                       "n_structure_files": len(hashes)})
    if mapping is not None:
        source["class_labels"] = {code: label for label, code in mapping.items()}
    if drop_invalid:
        source["dropped_rows"] = dropped
    if name is None:
        name = Path(file).name.split(".")[0] if file is not None else "user_data"
    return Dataset(name=name, inputs=input_series, target=target_series, input_type=input_type,
                   task_type=task_type, target_name=str(target_col), unit="", task=None,
                   source=source)


def _best_stem_column(frame: pd.DataFrame, files: dict, exclude=()) -> str | None:
    """The column whose values name the most CIF files (at least one)."""
    best, hits = None, 0
    stems = set(files)
    for c in frame.columns:
        if c in exclude:
            continue
        vals = {_id_text(v) for v in frame[c]}
        vals = {v[:-4] if v and v.lower().endswith(".cif") else v for v in vals}
        k = len(vals & stems)
        if k > hits:
            best, hits = c, k
    return best
