"""Feature labels -> physical groups a chemist reads ("electronegativity", "density", "symmetry").

Element-property statistics (``"MagpieData mean Electronegativity"``, ``"DemlData range
first_ioniz"``...) are grouped by the elemental property, whatever the statistic; structure
descriptors by what they describe. Unknown labels fall into ``"other"``, so new featurisers never
break the grouping.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from pymatgen.core.periodic_table import Element

# elemental property (lower-cased, as it appears after the statistic) -> group
_PROPERTY_GROUPS: dict[str, str] = {}


def _add(group: str, *props: str) -> None:
    for p in props:
        _PROPERTY_GROUPS[p.lower()] = group


_add("electronegativity", "Electronegativity", "electronegativity", "X")
_add("atomic size", "CovalentRadius", "atom_radius", "atomic_radius", "GSvolume_pa", "molar_vol")
_add("atomic mass / number", "AtomicWeight", "Number", "atom_mass", "atom_num", "atomic_mass")
_add("periodic-table position", "Column", "Row", "MendeleevNumber", "col_num", "row_num", "group",
     "row", "block", "mendeleev_no")
_add("valence electrons", "NValence", "NsValence", "NpValence", "NdValence", "NfValence",
     "NUnfilled", "NsUnfilled", "NpUnfilled", "NdUnfilled", "NfUnfilled")
_add("elemental band gap / magnetism", "GSbandgap", "GSmagmom")
_add("melting / thermal", "MeltingT", "melting_point", "boiling_point", "heat_cap", "heat_fusion",
     "thermal_conductivity", "coefficient_of_linear_thermal_expansion")
_add("elemental crystal structure", "SpaceGroupNumber")
_add("ionisation / polarisability", "first_ioniz", "electric_pol")
_add("elemental energetics", "FERE correction", "GGAU_Etot", "mus_fere")
_add("elemental mechanics / transport", "bulk_modulus", "velocity_of_sound", "electrical_resistivity")

_ELEMENT_PROPERTY = re.compile(
    r"^(?P<src>\w*Data)\s+(?P<stat>mean|minimum|maximum|range|avg_dev|mode|std_dev)\s+(?P<prop>.+)$")

# (regex on the whole label, group) for everything that is not an element-property statistic
_RULES: list[tuple[re.Pattern, str]] = [(re.compile(p, re.I), g) for p, g in [
    (r"^\d+-norm$", "stoichiometry"),
    (r"^(avg|frac) [spdf] valence electrons$", "valence electrons"),
    (r"ionic char|^compound possible$", "ionic character"),
    (r"^band center$", "elemental band gap / magnetism"),
    (r"^(density|volume per atom|packing fraction)$", "density / packing"),
    (r"^(spacegroup number|crystal system)$", "symmetry"),
    (r"(?-i:^(a|b|c|alpha|beta|gamma|n sites)$)", "lattice / cell"),  # case-sensitive: "C" is carbon
    (r"coordination number", "coordination"),
    (r"bond (length|stiffness)", "bonding"),
    (r"atomic mass$", "atomic mass / number"),
    (r"^rdf ", "radial distribution"),
    (r"sine coulomb|ewald", "electrostatics"),
    (r"tolerance factor|octahedral factor", "perovskite geometry"),
    (r"embedding \d+$", "learned element embedding"),
]]


def _is_element_symbol(label: str) -> bool:
    if not re.fullmatch(r"[A-Z][a-z]?", label):
        return False
    return Element.is_valid_symbol(label)


def feature_group(label: str) -> str:
    """The physical group of one feature label; ``"other"`` when no rule knows it."""
    label = str(label).strip()
    m = _ELEMENT_PROPERTY.match(label)
    if m:
        prop = m.group("prop")
        if prop.lower().startswith("embedding"):
            return "learned element embedding"
        return _PROPERTY_GROUPS.get(prop.lower(), "other element property")
    # matminer adaptor labels are prefixed with their spec ("matminer:Foo label")
    bare = label.split(" ", 1)[1] if label.startswith("matminer:") and " " in label else label
    for pattern, group in _RULES:
        if pattern.search(bare):
            return group
    if _is_element_symbol(bare):
        return "element fractions"
    return "other"


def feature_groups(labels: Iterable[str]) -> dict[str, str]:
    """label -> group for every label."""
    return {lab: feature_group(lab) for lab in labels}


def group_members(labels: Iterable[str]) -> dict[str, list[int]]:
    """group -> column positions of its features (groups in first-seen order)."""
    out: dict[str, list[int]] = {}
    for j, lab in enumerate(labels):
        out.setdefault(feature_group(lab), []).append(j)
    return out


def aggregate_by_group(importance: Mapping[str, float] | pd.Series) -> pd.DataFrame:
    """Sum per-feature importances (e.g. mean |SHAP|, which is additive) within each group.

    Returns columns group, importance, n_features, top_feature, sorted by importance.
    """
    s = pd.Series(importance, dtype=float)
    df = pd.DataFrame({"feature": s.index, "importance": s.to_numpy()})
    df["group"] = [feature_group(f) for f in df["feature"]]
    rows = []
    for g, sub in df.groupby("group", sort=False):
        top = sub.loc[sub["importance"].idxmax(), "feature"] if len(sub) else None
        rows.append({"group": g, "importance": float(np.nansum(sub["importance"])),
                     "n_features": int(len(sub)), "top_feature": top})
    out = pd.DataFrame(rows, columns=["group", "importance", "n_features", "top_feature"])
    return out.sort_values("importance", ascending=False, ignore_index=True)
