"""The user's own data turned into a Dataset, with every bad row reported at once.

A modelling run that fails on row 3,117 after an hour is the worst way to learn that a formula is
misspelt, so everything is checked up front and all problems are listed together, each with its
1-based data row number (row 1 is the first row under the header) and id. Reading the file is
readers.py's job, structures structures.py's, target cells targets.py's (which also states the
task-type rule); formulas go through chemistry.normalise_formula, the one formula reader.
"""
from __future__ import annotations

import difflib
import hashlib
from pathlib import Path

import pandas as pd
from pymatgen.core import Structure

from .chemistry import FormulaError, normalise_formula
from .dataset import Dataset
from .download import sha256_of
from .errors import InvalidDataError
from .readers import MISSING, hash_frame, is_missing, read_table  # noqa: F401 (re-exported)
from .structures import parse_column, parse_structure, parse_structure_column, read_cif_file  # noqa: F401
from .targets import TASK_TYPES, code_targets, infer_task_type

FORMULA_COLUMNS = ("formula", "composition")
STRUCTURE_COLUMNS = ("structure", "cif", "poscar")
DEFAULT_ID_COLUMNS = ("id", "mpid", "jid", "material_id")
ID_COLUMNS = ("id", "material_id", "mpid", "jid", "mbid", "name", "structure_id", "filename",
              "file")
MIN_ROWS = 2
DROP_HINT = "pass --drop-invalid (drop_invalid=True in Python) to leave them out"

__all__ = ["load_user_data", "parse_structure", "parse_structure_column", "parse_formula_column",
           "infer_task_type"]


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
    filled = [v for v in values if not is_missing(v)]
    return bool(filled) and sum(map(_looks_like_structure, filled)) * 2 > len(filled)


def _cif_files(folder: Path) -> dict[str, Path]:
    return {f.stem: f for f in sorted(folder.iterdir())
            if f.is_file() and f.suffix.lower() == ".cif"}


def _id_text(value) -> str | None:
    if is_missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_formula_column(values, column: str = "formula") -> pd.Series:
    """The formula text the loader would store for every value (same index; hydrates rewritten,
    e.g. for new rows to predict), or InvalidDataError listing each bad row."""
    return parse_column(values, normalise_formula, FormulaError, column, "formulas")


# -------------------------------------------------------------------------------------- main
def load_user_data(path, target: str, *, input_column: str | None = None,
                   id_column: str | None = None, task_type: str | None = None,
                   structures_dir=None, name: str | None = None,
                   drop_invalid: bool = False) -> Dataset:
    """Load a user's table (CSV/TSV/TXT, JSON/JSONL, parquet, or a DataFrame) into a Dataset.

    Inputs are a formula column (auto-detected: ``formula``/``composition``; hydrates such as
    ``CuSO4·5H2O`` are stored as ``CuSO4(H2O)5``), a structure column of CIF, POSCAR or pymatgen
    text or pymatgen dicts (``structure``/``cif``/``poscar``), or, with ``structures_dir``, one
    ``<id>.cif`` file per row named by ``id_column`` (auto-detected: ``id``, ``material_id``,
    ``name``, ``filename``, ... or the column matching the file names). Without an id column
    (default: one named ``id``, ``mpid``, ``jid`` or ``material_id``, any case) rows are named
    ``row-<n>``. Text class labels keep their names in ``dataset.class_labels``.

    Invalid rows raise InvalidDataError listing every problem as (row, column, reason); with
    ``drop_invalid=True`` they are dropped and listed in ``source["dropped_rows"]``. A table
    with fewer than two usable rows, or a constant regression target, is refused.
    """
    if task_type not in (None, *TASK_TYPES):
        raise ValueError(f"task_type must be one of {TASK_TYPES} or None, not {task_type!r}")
    frame, shown, file = read_table(path)
    if len(frame) == 0:
        raise InvalidDataError(
            f"{shown} has no data rows (columns: {_describe_columns(frame)}); add at least "
            f"{MIN_ROWS} rows under the header, one per material.")
    target_col = _require_column(frame, target, "target", shown)

    folder = Path(structures_dir) if structures_dir is not None else None
    if folder is not None and not folder.is_dir():
        raise InvalidDataError(f"Structures folder {folder} does not exist.")
    if folder is not None and input_column is not None:
        raise ValueError("pass either structures_dir (a folder of CIF files) or input_column, "
                         "not both")
    cif_files = _cif_files(folder) if folder is not None else {}
    if folder is not None and not cif_files:
        raise InvalidDataError(f"Structures folder {folder} holds no .cif files.")
    id_col = _id_column(frame, id_column, target_col, input_column, folder, cif_files, shown)
    input_col, input_type = _input_column(frame, input_column, target_col, id_col, folder, shown)
    n = len(frame)
    if n < MIN_ROWS:
        raise InvalidDataError(
            f"{shown} has {n} data row; a model needs at least {MIN_ROWS} (and cross-validation "
            f"many more): add rows, one per material.")

    problems: list[tuple[int, str, str]] = []
    raw_ids = [_id_text(v) for v in frame[id_col]] if id_col is not None else [None] * n
    problems += _id_problems(raw_ids, id_col)
    ids = [f"row-{i + 1}" if id_col is None or rid is None else rid
           for i, rid in enumerate(raw_ids)]
    inputs, hashes, input_problems = _read_inputs(frame, input_col, input_type, folder,
                                                  cif_files, raw_ids)
    problems += input_problems

    raw_target = list(frame[target_col])
    inferred = task_type is None
    if inferred:
        task_type = infer_task_type(raw_target)
    coded, bad, mapping = code_targets(raw_target, task_type)
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
            f"Fix them, or {DROP_HINT}.", shown_problems)
    if len(bad_rows) == n:
        raise InvalidDataError(f"{shown}: no valid rows are left after dropping the invalid ones.",
                               shown_problems)
    if n - len(bad_rows) < MIN_ROWS:
        raise InvalidDataError(
            f"{shown}: only {n - len(bad_rows)} valid row is left after dropping the invalid "
            f"ones; a model needs at least {MIN_ROWS}. Fix the rows below.", shown_problems)

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
    _refuse_degenerate_target(target_series, task_type, mapping, target_col, shown)

    source = {"kind": "user", "path": str(file.resolve()) if file is not None else shown,
              "sha256": sha256_of(file) if file is not None else hash_frame(frame),
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
    used = {c for c in (input_col, id_col, target_col) if c is not None}
    extra = frame.iloc[keep][[c for c in frame.columns if c not in used]].copy()
    extra.index = index  # the table's other columns (a fold column, a year), by row id
    extra.columns = [str(c) for c in extra.columns]
    return Dataset(name=name, inputs=input_series, target=target_series, input_type=input_type,
                   task_type=task_type, target_name=str(target_col), unit="", task=None,
                   source=source, extra=extra)


def _id_column(frame, id_column, target_col, input_column, folder, cif_files, shown):
    """The named id column, or for a CIF folder the column that names the files, or the first
    of DEFAULT_ID_COLUMNS present (any case), or None."""
    if id_column is not None:
        return _require_column(frame, id_column, "id", shown)
    if folder is not None:
        id_col = _find_named(frame, ID_COLUMNS, exclude=(target_col,)) or _best_stem_column(
            frame, cif_files, exclude=(target_col,))
        if id_col is None:
            raise InvalidDataError(
                f"{shown} has no column naming the CIF files in {folder} (e.g. 'mp-149' for "
                f"mp-149.cif); pass id_column=. Its columns are: {_describe_columns(frame)}.")
        return id_col
    return _find_named(frame, DEFAULT_ID_COLUMNS, exclude=(target_col, input_column))


def _input_column(frame, input_column, target_col, id_col, folder, shown):
    """(input column or None for a CIF folder, 'structure' | 'composition')."""
    if folder is not None:
        return None, "structure"
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
    return input_col, input_type


def _id_problems(raw_ids, id_col) -> list[tuple[int, str, str]]:
    if id_col is None:
        return []
    problems, first_row = [], {}
    for i, rid in enumerate(raw_ids):
        if rid is None:
            problems.append((i + 1, str(id_col), "missing id"))
        elif rid in first_row:
            problems.append((i + 1, str(id_col),
                             f"duplicated id {rid!r} (first seen in row {first_row[rid]})"))
        else:
            first_row[rid] = i + 1
    return problems


def _read_inputs(frame, input_col, input_type, folder, cif_files, raw_ids):
    """(inputs by position, [(file name, sha256)] of CIF files read, problems)."""
    n = len(frame)
    inputs: list = [None] * n
    hashes: list[tuple[str, str]] = []
    problems: list[tuple[int, str, str]] = []
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
                inputs[i] = read_cif_file(f)
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
                inputs[i] = normalise_formula(v)
            except FormulaError as exc:
                problems.append((i + 1, str(input_col), str(exc)))
    return inputs, hashes, problems


def _refuse_degenerate_target(target: pd.Series, task_type, mapping, target_col, shown):
    """One class, or one value: there is nothing to learn, and every score would be 0 or NaN."""
    values = sorted(set(target))
    if len(values) >= 2:
        return
    if task_type == "classification":
        label = values[0] if mapping is None else next(k for k, c in mapping.items()
                                                      if c == values[0])
        raise InvalidDataError(
            f"{shown}: the classification target {target_col!r} has one class only "
            f"({label!r} in all {len(target)} usable rows); a classifier needs two.")
    raise InvalidDataError(
        f"{shown}: the target {target_col!r} is constant ({values[0]:g} in all {len(target)} "
        f"usable rows); there is nothing to learn. Check that the right column is the target.")


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
