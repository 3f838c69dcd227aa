"""Chemistry helpers shared by loading, auditing and cleaning, so all three agree on what a
formula means, what counts as "the same compound" and which elements a row contains."""
from __future__ import annotations

import math
import re
import warnings
from functools import lru_cache

from pymatgen.core import Composition, DummySpecies, Element, Structure

# Symbols as they are written in a formula; pymatgen silently drops zero amounts and turns
# unknown symbols into dummy species, so both are checked against the raw text.
_SYMBOL = re.compile(r"[A-Z][a-z]*")

DUPLICATE_LEVELS = ("formula", "reduced_formula", "composition")


class FormulaError(ValueError):
    """A formula that cannot be a real chemical composition; the message says why in plain words."""


def _is_blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN
        return True
    return isinstance(value, str) and not value.strip()


@lru_cache(maxsize=65536)
def _parse_text(text: str) -> Composition:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. "No Pauling electronegativity for Og"
        try:
            comp = Composition(text)
        except ValueError as exc:
            if "negative" in str(exc):
                raise FormulaError(f"non-positive amount in formula {text!r}") from None
            raise FormulaError(f"cannot parse formula {text!r} ({exc})") from None
        except Exception as exc:  # pymatgen raises KeyError/IndexError on some garbage
            raise FormulaError(f"cannot parse formula {text!r} ({exc})") from None
    unknown = unknown_elements(comp)
    if unknown:
        raise FormulaError(f"unknown element {', '.join(unknown)} in formula {text!r}")
    if not all(math.isfinite(amt) for amt in comp.values()):
        raise FormulaError(f"non-finite amount in formula {text!r}")
    written = set(_SYMBOL.findall(text))
    parsed = {el.symbol for el in comp.elements}
    # Deuterium/tritium are mapped to H by pymatgen; they are not "dropped"
    dropped = sorted(s for s in written - parsed if s not in ("D", "T") or "H" not in parsed)
    if dropped or comp.num_atoms <= 0:
        which = ", ".join(dropped) if dropped else "all elements"
        raise FormulaError(f"non-positive amount for {which} in formula {text!r}")
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
