"""Words and numbers for people, for the talk: metric names, numbers to 3 significant figures
(never ``5.182e-07``), p-values as ``p < 0.001``, and feature labels in plain words
(``"MagpieData range CovalentRadius"`` -> "spread of atomic radius (largest minus smallest)")."""
from __future__ import annotations

import math
import re

#: What each metric is, said on the slides wherever a metric appears.
METRIC_NAMES = {
    "rocauc": "rocauc (Matbench: balanced accuracy of hard labels)",
    "roc_auc_true": "ROC-AUC of probabilities",
    "balanced_accuracy": "balanced accuracy", "accuracy": "accuracy", "f1": "F1 of class 1",
    "mae": "MAE (mean absolute error)", "rmse": "RMSE (root mean squared error)",
    "mape": "MAPE (mean absolute percentage error)", "max_error": "largest absolute error",
    "r2": "R² (coefficient of determination)",
}
#: Metrics that carry the target's unit.
UNIT_METRICS = {"mae", "rmse", "max_error"}


def metric_name(metric: str, unit: str | None = None) -> str:
    name = METRIC_NAMES.get(metric, metric)
    return f"{name}, {unit}" if unit and metric in UNIT_METRICS else name


def num(x, sig: int = 3) -> str:
    """A number for a slide: 3 significant figures, thousands separated, no exponent."""
    if x is None:
        return "–"
    if isinstance(x, int) or (hasattr(x, "dtype") and getattr(x.dtype, "kind", "") in "iu"):
        return f"{int(x):,}"  # a count: every digit
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "–"
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    if mag >= sig - 1:  # 1234.5 -> 1,230; 91.7 stays
        return f"{round(v, sig - 1 - mag):,.0f}"
    if mag < -6:
        return "≈ 0"  # a training error of 1e-13 is zero to a listener
    return f"{v:.{sig - 1 - mag}f}"


def decimals_of(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def pm(mean, std) -> str:
    """``mean ± std``: the mean to 3 significant figures, the std to the same decimals
    (one significant figure at least, so a tiny spread does not read as 0)."""
    m = num(mean)
    if std is None or not math.isfinite(float(std)) or m == "–":
        return m
    d = decimals_of(m)
    s = float(std)
    if s == 0:
        return f"{m} ± 0"
    if round(s, d) == 0:
        return f"{m} ± {num(s, 1)}"
    return f"{m} ± {s:,.{d}f}"


def tidy_numbers(text: str) -> str:
    """Numbers inside a sentence written elsewhere (a figure caption) to 3 significant figures;
    shorter ones ("1.5 IQR") stay as written."""
    def one(m):
        t = m.group()
        digits = re.sub(r"e.*$", "", t).replace("-", "").replace(".", "").lstrip("0")
        return num(float(t)) if "e" in t or len(digits) > 3 else t
    return re.sub(r"(?<![\w.])-?\d+\.\d+(?:e[-+]?\d+)?", one, text)


def pct(x, nd: int = 0) -> str:
    return "–" if x is None or not math.isfinite(float(x)) else f"{100 * float(x):.{nd}f}%"


def pval(p) -> str:
    """``p = 0.031`` or ``p < 0.001``."""
    if p is None or not math.isfinite(float(p)):
        return "p not computed"
    p = float(p)
    return "p < 0.001" if p < 0.001 else f"p = {num(p, 2)}"


# --- features in their own words ---------------------------------------------------------------
_PROPS = {
    "number": "atomic number", "mendeleevnumber": "Mendeleev number (place in a chemically ordered table)",
    "atomicweight": "atomic mass", "meltingt": "melting point of the pure element",
    "column": "periodic-table group", "row": "periodic-table row (period)",
    "covalentradius": "atomic (covalent) radius", "electronegativity": "electronegativity",
    "nsvalence": "s valence electrons", "npvalence": "p valence electrons",
    "ndvalence": "d valence electrons", "nfvalence": "f valence electrons",
    "nvalence": "valence electrons", "nsunfilled": "empty s states", "npunfilled": "empty p states",
    "ndunfilled": "empty d states", "nfunfilled": "empty f states",
    "nunfilled": "empty valence states", "gsvolume_pa": "volume per atom of the pure element",
    "gsbandgap": "band gap of the pure element", "gsmagmom": "magnetic moment of the pure element",
    "spacegroupnumber": "space group of the pure element's crystal",
    "first_ioniz": "first ionisation energy", "electric_pol": "polarisability",
    "atom_radius": "atomic radius", "atomic_radius": "atomic radius", "molar_vol": "molar volume",
    "heat_fusion": "heat of fusion", "boiling_point": "boiling point", "melting_point": "melting point",
    "thermal_conductivity": "thermal conductivity", "bulk_modulus": "bulk modulus",
    "x": "electronegativity", "atom_num": "atomic number", "atom_mass": "atomic mass",
}
_STATS = {
    "mean": "average {p} (by atomic fraction)",
    "minimum": "smallest {p} among the elements",
    "maximum": "largest {p} among the elements",
    "range": "spread of {p} (largest minus smallest)",
    "avg_dev": "mismatch of {p} (mean deviation over the atoms)",
    "mode": "{p} of the most abundant element",
    "std_dev": "standard deviation of {p}",
}
_ELEMENT_PROPERTY = re.compile(
    r"^(?:\w*Data\s+)(?P<stat>mean|minimum|maximum|range|avg_dev|mode|std_dev)\s+(?P<prop>.+)$")
_OTHER = [
    (re.compile(r"^0-norm$"), "number of elements"),
    (re.compile(r"^(\d+)-norm$"), "how much one element dominates ({0}-norm of the atomic fractions)"),
    (re.compile(r"^avg ([spdf]) valence electrons$"), "average {0} valence electrons per atom"),
    (re.compile(r"^frac ([spdf]) valence electrons$"), "share of valence electrons in {0} states"),
    (re.compile(r"^compound possible$"), "whether a charge-balanced ionic compound is possible"),
    (re.compile(r"^max ionic char$"), "largest ionic character of any element pair"),
    (re.compile(r"^avg ionic char$"), "average ionic character of the bonds"),
    (re.compile(r"^(density|volume per atom|packing fraction)$"), "{0} of the crystal"),
    (re.compile(r"^band center$"), "estimated band centre (from electronegativities)"),
]
_SYMBOL = re.compile(r"^[A-Z][a-z]?$")


def describe_feature(label: str) -> str:
    """A feature label in plain words; the label itself when no rule knows it."""
    label = str(label).strip()
    bare = label.split(" ", 1)[1] if label.startswith("matminer:") and " " in label else label
    m = _ELEMENT_PROPERTY.match(bare)
    if m:
        prop = m.group("prop")
        words = _PROPS.get(prop.lower(), re.sub(r"(?<=[a-z])(?=[A-Z])|_", " ", prop).lower())
        return _STATS[m.group("stat")].format(p=words)
    for pattern, text in _OTHER:
        mm = pattern.match(bare)
        if mm:
            return text.format(*mm.groups())
    if _SYMBOL.match(bare):
        return f"fraction of {bare}"
    return label
