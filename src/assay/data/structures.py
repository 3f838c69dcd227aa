"""Crystal structures from the text forms people actually have: CIF, POSCAR, pymatgen's dict (or
its JSON) and pymatgen's printed summary (``str(Structure)``, which is what ``DataFrame.to_csv``
writes for a column of Structure objects). A structure that cannot be read is a ValueError whose
message says which form was tried and which forms are accepted."""
from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Lattice, Structure
from pymatgen.core.periodic_table import get_el_sp

from .chemistry import unknown_elements
from .errors import InvalidDataError
from .readers import is_missing

__all__ = ["parse_structure", "parse_structure_column", "read_cif_file", "from_pymatgen_text",
           "ACCEPTED"]

ACCEPTED = ("CIF, POSCAR, a pymatgen structure dict (or its JSON) or pymatgen's printed "
            "structure (str(Structure))")

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TRIPLE = re.compile(rf"^\s*({_NUM})\s+({_NUM})\s+({_NUM})\s*$")
_SITE = re.compile(rf"^\s*(\d+)\s+(.+?)\s+({_NUM})\s+({_NUM})\s+({_NUM})(?:\s+.*)?$")


def _kind_of(text: str) -> str:
    if text.startswith("Full Formula"):
        return "pymatgen text"
    if "data_" in text or "_cell_length" in text:
        return "CIF"
    return "POSCAR"


def _unreadable(kind: str, exc: Exception) -> ValueError:
    return ValueError(f"unparsable {kind} ({type(exc).__name__}: {exc}); accepted structure "
                      f"formats: {ACCEPTED}")


def _species(text: str):
    """'Na', 'Fe2+' or a disordered site 'K:0.5, Na:0.5' as pymatgen's Structure takes it."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 1 and ":" not in parts[0]:
        return get_el_sp(parts[0])
    occ = {}
    for p in parts:
        sym, _, amount = p.rpartition(":")
        if not sym:
            raise ValueError(f"site species {text!r} is not 'El:occupancy, ...'")
        occ[get_el_sp(sym.strip())] = float(amount)
    return occ


def from_pymatgen_text(text: str) -> Structure:
    """Read pymatgen's printed structure: lattice from 'abc' and 'angles', sites from the table of
    fractional coordinates (6 significant digits, as printed). The printed formula and site
    count must match what was read, so a truncated or edited printout is refused, not guessed."""
    lines = [ln.rstrip() for ln in text.strip().splitlines()]
    fields, start = {}, None
    for k, ln in enumerate(lines):
        key, sep, value = ln.partition(":")
        if ln.startswith("Full Formula"):
            fields["formula"] = ln[len("Full Formula"):].strip().strip("()")
        elif ln.startswith("Sites ("):
            fields["n_sites"] = int(ln[len("Sites ("):].rstrip(")"))
            start = k + 1
            break
        elif sep:
            fields[key.strip().lower()] = value.strip()
    for need in ("formula", "abc", "angles", "n_sites"):
        if need not in fields:
            raise ValueError(f"no {need!r} line")
    abc, angles = _TRIPLE.match(fields["abc"]), _TRIPLE.match(fields["angles"])
    if abc is None or angles is None:
        raise ValueError("'abc' and 'angles' must hold three numbers each")
    pbc = tuple(w == "True" for w in fields.get("pbc", "True True True").split())
    lattice = Lattice.from_parameters(*map(float, abc.groups()), *map(float, angles.groups()),
                                      pbc=pbc if len(pbc) == 3 else (True, True, True))
    species, coords = [], []
    for ln in lines[start:]:
        if not ln.strip() or ln.lstrip().startswith(("#", "---")):
            continue
        m = _SITE.match(ln)
        if m is None:
            raise ValueError(f"cannot read site line {ln.strip()!r}")
        species.append(_species(m.group(2)))
        coords.append([float(m.group(i)) for i in (3, 4, 5)])
    if len(species) != fields["n_sites"]:
        raise ValueError(f"'Sites ({fields['n_sites']})' but {len(species)} site lines")
    charge = float(fields.get("overall charge", 0) or 0)
    s = Structure(lattice, species, np.array(coords, dtype=float).reshape(-1, 3), charge=charge)
    printed = Composition(fields["formula"]).element_composition
    if not s.composition.element_composition.almost_equals(printed, rtol=1e-4, atol=1e-6):
        raise ValueError(f"the sites add up to {s.composition.formula}, not the printed "
                         f"{fields['formula']}")
    return s


def parse_structure(value) -> Structure:
    """A Structure from CIF, POSCAR or pymatgen text, or a pymatgen dict (or its JSON); a
    ValueError says why not. Disordered (partial-occupancy) structures are accepted."""
    if isinstance(value, Structure):
        s, kind = value, "structure"
    elif is_missing(value):
        raise ValueError("empty structure")
    elif isinstance(value, dict) or (isinstance(value, str) and value.lstrip().startswith("{")):
        kind = "pymatgen structure dict"
        try:
            d = json.loads(value) if isinstance(value, str) else value
            s = Structure.from_dict(d)
        except Exception as exc:
            raise _unreadable(kind, exc) from None
    elif isinstance(value, str):
        text = value.strip()
        kind = _kind_of(text)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if kind == "pymatgen text":
                    s = from_pymatgen_text(text)
                else:
                    s = Structure.from_str(text, fmt="cif" if kind == "CIF" else "poscar")
        except Exception as exc:
            raise _unreadable(kind, exc) from None
    else:
        raise ValueError(f"a structure must be text or a pymatgen dict, got "
                         f"{type(value).__name__}; accepted structure formats: {ACCEPTED}")
    return _checked(s, kind)


def _checked(s: Structure, kind: str) -> Structure:
    if len(s) == 0:
        raise ValueError(f"{kind} has no atoms")
    unknown = unknown_elements(s.composition)
    if unknown:
        raise ValueError(f"unknown element {', '.join(unknown)} in {kind}")
    if not np.isfinite(s.lattice.matrix).all() or not np.isfinite(s.frac_coords).all():
        raise ValueError(f"{kind} has non-finite lattice or coordinates")
    if not s.lattice.volume > 0:
        raise ValueError(f"{kind} has a cell of zero volume")
    return s


def parse_column(values, parse, errors, column: str, what: str) -> pd.Series:
    """``parse`` applied to every value (same index), or one InvalidDataError listing every row
    that raised one of ``errors``: all bad rows at once, each named."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values))
    out, problems = [], []
    for i, v in enumerate(series):
        try:
            out.append(parse(v))
        except errors as exc:
            out.append(None)
            problems.append((i + 1, str(series.name or column), str(exc)))
    if problems:
        raise InvalidDataError(f"{len(problems)} of {len(series)} {what} cannot be read.", problems)
    return pd.Series(out, index=series.index, name=series.name or column, dtype=object)


def parse_structure_column(values, column: str = "structure") -> pd.Series:
    """Structures for every value (same index), or InvalidDataError listing each bad row."""
    return parse_column(values, parse_structure, ValueError, column, "structures")


def read_cif_file(path: Path) -> Structure:
    """One CIF file of a structures folder; ValueError names the file."""
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
    return _checked(s, path.name)
