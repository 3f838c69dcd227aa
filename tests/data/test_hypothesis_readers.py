"""Property tests: random formulas, CSV cells and structure text fed to the readers give a parsed
result or an assay error naming the row; never another exception, never a silent change of
meaning (a hydrate's element amounts are the hydrate's, a decimal amount stays that amount)."""
import math
import os
import re
import tempfile
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pymatgen.core import Composition, Element, Lattice, Structure

from assay.data.chemistry import ADDUCTS, FormulaError, parse_formula
from assay.data.errors import AssayError, InvalidDataError
from assay.data.structures import parse_structure
from assay.data.user import load_user_data

FAST = settings(max_examples=int(os.environ.get("ASSAY_HYPOTHESIS_EXAMPLES", 60)), deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
SYMBOLS = ["H", "Li", "C", "N", "O", "F", "Na", "Mg", "Al", "Si", "S", "Cl", "K", "Ca", "Fe", "Cu",
           "Zn", "Ba", "Xx", "Q", "e"]
REAL = [s for s in SYMBOLS if s not in ("Xx", "Q", "e")]
JUNK = list("0123456789.·*()[] ,-+_e/") + ["H2O", "5H2O", "NH3"]


def amounts(comp) -> dict:
    return {k: v for k, v in comp.get_el_amt_dict().items()}


def loaded_or_named(frame, target="y", **kw):
    """load_user_data's result, or None after checking the error names rows of the table."""
    try:
        return load_user_data(frame, target, **kw)
    except InvalidDataError as exc:
        for r, col, why in exc.problems:
            assert 1 <= r <= len(frame) and col and why
        if not exc.problems:  # a whole-table refusal says so in words
            assert str(exc)
        return None


# ---------------------------------------------------------------------------------- formulas
@FAST
@given(st.lists(st.sampled_from(SYMBOLS + JUNK), min_size=1, max_size=8).map("".join))
def test_any_formula_text_parses_or_is_refused(text):
    try:
        comp = parse_formula(text)
    except FormulaError as exc:
        assert isinstance(exc, AssayError) and str(exc)
        return
    assert comp.num_atoms > 0 and all(math.isfinite(v) and v > 0 for v in comp.values())
    # only real elements, each written in the text (pymatgen reads D and T as H)
    assert all(isinstance(el, Element) and el.symbol in text for el in comp.elements)


formula_units = st.lists(st.tuples(st.sampled_from(REAL), st.integers(1, 12)), min_size=1,
                         max_size=4)


def write_units(units) -> str:
    return "".join(f"{el}{n if n > 1 else ''}" for el, n in units)


def unit_amounts(units) -> Counter:
    c = Counter()
    for el, n in units:
        c[el] += n
    return c


@FAST
@given(formula_units, st.sampled_from(["·", "*", ".", " · ", "•"]), st.integers(1, 12),
       st.sampled_from(ADDUCTS))
def test_hydrate_amounts_are_the_hydrates(units, sep, count, adduct):
    text = f"{write_units(units)}{sep}{count if count > 1 else ''}{adduct}"
    expected = unit_amounts(units)
    for el, n in Composition(adduct).get_el_amt_dict().items():
        expected[el] += count * n
    assert amounts(parse_formula(text)) == pytest.approx(dict(expected))


@FAST
@given(st.lists(st.tuples(st.sampled_from(REAL), st.integers(1, 99), st.integers(0, 99)),
                min_size=1, max_size=4))
def test_decimal_amounts_keep_their_meaning(parts):
    text = "".join(f"{el}{whole}.{frac:02d}" for el, whole, frac in parts)
    # the one documented ambiguity: "<n>.<count><adduct>" is a hydrate ("CuSO4.5H2O")
    assume(not any(re.match(rf"\d*({'|'.join(ADDUCTS)})(?=$|\d*\.)", text[m.end():])
                   for m in re.finditer(r"\.", text)))
    expected = Counter()
    for el, whole, frac in parts:
        expected[el] += whole + frac / 100
    assert amounts(parse_formula(text)) == pytest.approx(dict(expected))


# --------------------------------------------------------------------------------- CSV cells
cells = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
numbers = st.floats(allow_nan=True, allow_infinity=True).map(repr)


@FAST
@given(st.lists(st.tuples(st.one_of(cells, st.sampled_from(REAL)),
                          st.one_of(cells, numbers, st.sampled_from(["", "NA", "true", "1"]))),
                min_size=0, max_size=6),
       st.booleans())
def test_csv_cells_load_or_name_the_row(rows, drop):
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "t.csv"
        pd.DataFrame({"id": [f"r{i}" for i in range(len(rows))],
                      "formula": [r[0] for r in rows], "y": [r[1] for r in rows]}
                     ).to_csv(f, index=False)
        ds = loaded_or_named_file(f, drop)
    if ds is None:
        return
    assert len(ds) >= 2 and list(ds.ids) == [i for i in ds.ids if i.startswith("r")]
    raw = {f"r{i}": r for i, r in enumerate(rows)}
    for rid, formula, y in zip(ds.ids, ds.inputs, ds.target):
        assert amounts(parse_formula(formula)) == amounts(parse_formula(raw[rid][0]))
        if ds.task_type == "regression":
            assert y == float(raw[rid][1]) and np.isfinite(y)


def loaded_or_named_file(path, drop):
    try:
        return load_user_data(path, "y", drop_invalid=drop)
    except InvalidDataError as exc:
        assert str(path) in str(exc) or exc.problems
        for r, col, why in exc.problems:
            assert r >= 1 and col in ("id", "formula", "y") and why
        return None


# ---------------------------------------------------------------------------- structure text
@lru_cache(maxsize=1)
def _structures():
    nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])
    mixed = Structure(Lattice.from_parameters(3, 4, 5, 80, 95, 100), [{"Na": .5, "K": .5}, "O"],
                      [[0.1, 0.2, 0.3], [0.5, 0.5, 0.5]])
    return [nacl, mixed]


PAIRS = [(k, t) for k, s in enumerate(_structures())
         for t in (s.to(fmt="cif"), str(s)) + ((s.to(fmt="poscar"),) if s.is_ordered else ())]
TEXTS = [t for _, t in PAIRS]


@st.composite
def mangled(draw):
    text = draw(st.sampled_from(TEXTS))
    lines = text.splitlines()
    how = draw(st.sampled_from(["drop", "truncate", "replace", "swap", "none"]))
    if how == "drop" and lines:
        del lines[draw(st.integers(0, len(lines) - 1))]
    elif how == "truncate":
        return text[:draw(st.integers(0, len(text)))]
    elif how == "replace" and lines:
        i = draw(st.integers(0, len(lines) - 1))
        lines[i] = draw(st.text(alphabet="0123456789 .-eNaClKO:_(),xyz", max_size=30))
    elif how == "swap" and len(lines) > 1:
        i = draw(st.integers(0, len(lines) - 2))
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    return "\n".join(lines)


@FAST
@given(mangled())
def test_structure_text_parses_or_is_refused(text):
    try:
        s = parse_structure(text)
    except ValueError as exc:
        assert str(exc)
        return
    assert len(s) > 0 and s.lattice.volume > 0 and np.isfinite(s.frac_coords).all()


@FAST
@given(st.lists(mangled(), min_size=2, max_size=3))
def test_structure_column_loads_or_names_the_row(texts):
    frame = pd.DataFrame({"structure": texts, "y": [float(i) for i in range(len(texts))]})
    ds = loaded_or_named(frame)
    if ds is not None:
        assert all(isinstance(s, Structure) for s in ds.inputs)


@pytest.mark.parametrize("k, text", PAIRS)
def test_unmangled_structure_text_keeps_its_composition(k, text):
    assert parse_structure(text).composition.almost_equals(_structures()[k].composition)
