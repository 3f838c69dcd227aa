"""Chemistry helpers shared by loading, auditing and cleaning, so all three agree on what a
formula means, what counts as "the same compound" and which elements a row contains."""
from __future__ import annotations

import math
import re
import warnings
from functools import lru_cache

from pymatgen.core import Composition, DummySpecies, Element, Structure

from .errors import AssayError

# Symbols as they are written in a formula; pymatgen silently drops zero amounts and turns
# unknown symbols into dummy species, so both are checked against the raw text.
_SYMBOL = re.compile(r"[A-Z][a-z]*")

DUPLICATE_LEVELS = ("formula", "reduced_formula", "composition")
MAX_AMOUNT = 1e9  # more atoms of one element per formula unit than this is a typo ("Fe1e30O")


# Hydrate / adduct notation. '·' and friends and '*' always separate formula units; so does '.'
# unless a digit follows, where it is normally a decimal point ("Fe0.95O", "Ba.5Sr.5TiO3"). There
# "CuSO4.5H2O" is the one common exception, so such a dot separates units only when what follows
# is a count and one of these molecules (and the number before it, if any, is not 0).
_UNIT_SEPARATORS = "·•⋅∙・*"
ADDUCTS = ("H2O", "D2O", "NH3", "H2O2", "HF", "HCl", "HBr", "CO2", "CH3OH", "C2H5OH")
_COUNT = r"\d+(?:\.\d+)?"
_ADDUCT_AFTER_DOT = re.compile(
    rf"\s*(?:{_COUNT})?\s*(?:{'|'.join(sorted(ADDUCTS, key=len, reverse=True))})"
    rf"(?=$|[\s.{_UNIT_SEPARATORS}])")
_UNIT = re.compile(rf"^\s*({_COUNT})?\s*(.*?)\s*$", re.S)


class FormulaError(ValueError, AssayError):
    """A formula that cannot be a real chemical composition; the message says why in plain words.
    (A ValueError for callers that catch those, an AssayError like every deliberate refusal.)"""


def _unit_breaks(text: str) -> list[int]:
    """Positions of the characters that separate formula units (see _UNIT_SEPARATORS)."""
    out = []
    for i, ch in enumerate(text):
        if ch in _UNIT_SEPARATORS:
            out.append(i)
        elif ch == "." and i + 1 < len(text):  # a trailing "." is a decimal point ("FeO3.")
            if not text[i + 1].isdigit():  # "LiCl.H2O", "KCl.MgCl2.6H2O"
                out.append(i)
                continue
            digits = re.search(r"\d+$", text[:i])
            if (digits is None or float(digits.group()) != 0) and _ADDUCT_AFTER_DOT.match(text, i + 1):
                out.append(i)  # "CuSO4.5H2O", "CaSO4.0.5H2O" (but "Li0.5H2O" is Li0.5 H2 O)
    return out


def hydrate_formula(text: str) -> str:
    """``text`` with hydrate notation written as pymatgen reads it: 'CuSO4·5H2O', 'CuSO4*5H2O'
    and 'CuSO4.5H2O' all become 'CuSO4(H2O)5' (pymatgen alone reads the last as CuSO4.5 H2 O).
    Text without hydrate notation is returned unchanged; a FormulaError says what is wrong."""
    breaks = _unit_breaks(text)
    if not breaks:
        return text
    cuts = [-1, *breaks, len(text)]
    parts = [text[a + 1:b] for a, b in zip(cuts, cuts[1:])]
    first = parts[0].strip()
    if not first:
        raise FormulaError(f"hydrate formula {text!r} has nothing before {text[breaks[0]]!r}")
    out = [first]
    for part in parts[1:]:
        count, unit = _UNIT.match(part).groups()
        if not unit:
            raise FormulaError(f"hydrate formula {text!r} has no formula unit after a separator")
        if count is not None and float(count) == 0:
            raise FormulaError(f"hydrate count 0 in formula {text!r}")
        out.append(f"({unit})" + ("" if count is None or float(count) == 1 else count))
    return "".join(out)


def _is_blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN
        return True
    return isinstance(value, str) and not value.strip()


@lru_cache(maxsize=65536)
def _parse_text(written: str) -> Composition:
    text = hydrate_formula(written)
    shown = repr(written) if text == written else f"{written!r} (read as {text!r})"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. "No Pauling electronegativity for Og"
        try:
            comp = Composition(text)
        except ValueError as exc:
            if "negative" in str(exc):
                raise FormulaError(f"non-positive amount in formula {shown}") from None
            raise FormulaError(f"cannot parse formula {shown} ({exc})") from None
        except Exception as exc:  # pymatgen raises KeyError/IndexError on some garbage
            raise FormulaError(f"cannot parse formula {shown} ({exc})") from None
    unknown = unknown_elements(comp)
    if unknown:
        raise FormulaError(f"unknown element {', '.join(unknown)} in formula {shown}")
    if not all(math.isfinite(amt) and amt < MAX_AMOUNT for amt in comp.values()):
        raise FormulaError(f"non-finite or absurdly large amount in formula {shown}")
    written_symbols = set(_SYMBOL.findall(text))
    parsed = {el.symbol for el in comp.elements}
    # Deuterium/tritium are mapped to H by pymatgen; they are not "dropped"
    dropped = sorted(s for s in written_symbols - parsed if s not in ("D", "T") or "H" not in parsed)
    if dropped or comp.num_atoms <= 0:
        which = ", ".join(dropped) if dropped else "all elements"
        raise FormulaError(f"non-positive amount for {which} in formula {shown}")
    return comp


def unknown_elements(comp: Composition) -> list[str]:
    """Symbols pymatgen could only read as placeholders (e.g. 'Xx'), not as real elements."""
    dummies = {el.symbol for el in comp.elements if isinstance(el, DummySpecies)
               or not isinstance(getattr(el, "element", el), Element)}
    return sorted(dummies)


def parse_formula(formula) -> Composition:
    """A pymatgen Composition, or a FormulaError that says what is wrong (empty, unknown element,
    non-positive amount, unparsable)."""
    if isinstance(formula, Composition):
        return formula
    if _is_blank(formula):
        raise FormulaError("empty formula")
    if not isinstance(formula, str):
        raise FormulaError(f"formula must be text, got {type(formula).__name__} {formula!r}")
    return _parse_text(formula.strip())


def normalise_formula(formula) -> str:
    """The formula text every later stage may hand to pymatgen as is: stripped, hydrate notation
    rewritten ('CuSO4·5H2O' -> 'CuSO4(H2O)5'); a FormulaError if it is not a usable formula.
    Loaders store this text, so featurisers that call ``Composition(text)`` read the same thing."""
    parse_formula(formula)
    return hydrate_formula(formula.strip())


def formula_problem(formula) -> str | None:
    """The reason ``formula`` is unusable, or None when it is fine."""
    try:
        parse_formula(formula)
    except FormulaError as exc:
        return str(exc)
    return None


def composition_of(item) -> Composition:
    """Composition of a row's input: a formula string, a Composition or a Structure."""
    if isinstance(item, Structure):
        return item.composition
    return parse_formula(item)


def reduced_formula(item) -> str:
    return composition_of(item).reduced_formula


def element_set(item) -> frozenset[str]:
    return frozenset(el.symbol for el in composition_of(item).elements)


def chemical_system(item) -> str:
    """Elements joined by '-' in alphabetical order, e.g. 'Fe-O'."""
    return "-".join(sorted(element_set(item)))


def composition_key(item, decimals: int = 3) -> tuple:
    """Fractional composition rounded to ``decimals``: Fe2O3, Fe4O6 and Fe0.4O0.6 share a key."""
    frac = composition_of(item).fractional_composition.get_el_amt_dict()
    return tuple(sorted((el, round(amt, decimals)) for el, amt in frac.items()))


def formula_string(item) -> str:
    """The row's formula as written (a Structure gives its full formula, e.g. 'Na1 Cl1')."""
    if isinstance(item, Structure):
        return item.composition.formula
    if isinstance(item, Composition):
        return item.formula
    return str(item).strip()


def duplicate_key(item, level: str):
    """The key under which two rows count as the same compound at ``level``."""
    if level == "formula":
        return formula_string(item)
    if level == "reduced_formula":
        return reduced_formula(item)
    if level == "composition":
        return composition_key(item)
    raise ValueError(f"unknown duplicate level {level!r}; choose one of {DUPLICATE_LEVELS}")
