"""Several sources of one property, combined with their problems in the open.

Real data comes from several tables (a database dump, a paper's SI, your own measurements).
``load_sources`` reads each with the same reader as a single table, checks that they measure the
same thing (same target column, same unit where a header or a unit column says one), keeps each
row's source in a ``source`` column, finds the same material in several sources (by reduced
formula; for structures, by formula and then pymatgen's StructureMatcher), reports the
conflicts per pair of sources, and applies the merge policy the user chose:

keep          every row stays (the same material may then appear once per source)
mean          one row per material: the mean of its values across sources
prefer:NAME   rows of source NAME win; other sources' rows of the same material are dropped

Everything it did is logged in ``source["merge"]`` (dataset.json), and ``--split column:source``
(``split="sources"``) gives leave-one-source-out folds.
"""
from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Composition

from .dataset import Dataset
from .errors import InvalidDataError
from .user import load_user_data

POLICIES = ("keep", "mean")
_UNIT = re.compile(r"\(([^)]*)\)\s*$")


def source_names(paths) -> list[str]:
    """Each file's stem, made unique (a.csv, b.csv -> a, b)."""
    names: list[str] = []
    for p in paths:
        stem = Path(p).name.split(".")[0]
        name, k = stem, 2
        while name in names:
            name, k = f"{stem}{k}", k + 1
        names.append(name)
    return names


def _unit_of(header: str) -> str | None:
    m = _UNIT.search(str(header))
    return m.group(1).strip() if m else None


def _check_policy(policy: str, names: list[str]) -> None:
    if policy in POLICIES:
        return
    if policy.startswith("prefer:") and policy.split(":", 1)[1] in names:
        return
    raise InvalidDataError(f"merge policy {policy!r}: use keep, mean or prefer:<source> with a source "
                           f"among {', '.join(names)}")


def load_sources(paths, target: str, *, policy: str = "keep", **kw) -> Dataset:
    """One Dataset from several tables (see module doc); ``kw`` as for ``load_user_data``."""
    paths = [Path(p) for p in paths]
    names = source_names(paths)
    _check_policy(policy, names)
    parts = [load_user_data(p, target, **kw) for p in paths]
    first = parts[0]
    for name, ds in zip(names, parts):
        if ds.input_type != first.input_type or ds.task_type != first.task_type:
            raise InvalidDataError(
                f"source {name!r} has {ds.input_type} inputs and a {ds.task_type} target; "
                f"{names[0]!r} has {first.input_type} and {first.task_type}: they do not measure "
                "the same thing")
    units = {name: _unit_of(ds.target_name) or _unit_column(ds) for name, ds in zip(names, parts)}
    known = {u for u in units.values() if u}
    if len(known) > 1:
        raise InvalidDataError("the sources give the target in different units: " + ", ".join(
            f"{n}: {u}" for n, u in units.items() if u) + "; convert them to one unit first")
    ids, inputs, target_vals, src = [], [], [], []
    for name, ds in zip(names, parts):
        ids += [f"{name}:{i}" for i in ds.ids]
        inputs += list(ds.inputs)
        target_vals += list(ds.target)
        src += [name] * len(ds)
    index = pd.Index(ids, name="id")
    merged = Dataset(name="+".join(names), inputs=pd.Series(inputs, index=index, dtype=object,
                                                             name=first.input_type),
                     target=pd.Series(target_vals, index=index, name=first.target_name,
                                      dtype=first.target.dtype),
                     input_type=first.input_type, task_type=first.task_type,
                     target_name=first.target_name, unit=first.unit or (known.pop() if known else ""),
                     source={"kind": "sources", "sources": [
                         {"name": n, **{k: d.source.get(k) for k in ("path", "sha256", "n_rows_used")}}
                         for n, d in zip(names, parts)], "sha256": "+".join(
                         str(d.source.get("sha256")) for d in parts)},
                     extra=pd.DataFrame({"source": src}, index=index))
    groups = material_groups(merged)
    log = conflicts(merged, groups, names)
    out = apply_policy(merged, groups, policy)
    out.source["merge"] = {"policy": policy, **log, "n_rows_before": len(merged),
                           "n_rows_after": len(out)}
    return out


def _unit_column(ds: Dataset) -> str | None:
    if ds.extra is not None and "unit" in ds.extra:
        u = set(ds.extra["unit"].dropna().astype(str))
        if len(u) > 1:
            raise InvalidDataError(f"{ds.name}: the unit column holds several units ({', '.join(sorted(u))})")
        return u.pop() if u else None
    return None


def material_groups(ds: Dataset) -> np.ndarray:
    """A material key per row: the reduced formula, refined by structure matching for
    structures (two polymorphs of one formula are different materials)."""
    if ds.input_type == "composition":
        return np.asarray([Composition(f).reduced_formula for f in ds.inputs], dtype=object)
    formulas = [s.composition.reduced_formula for s in ds.inputs]
    keys = np.asarray(formulas, dtype=object)
    matcher = StructureMatcher()
    for formula in set(formulas):
        rows = [i for i, f in enumerate(formulas) if f == formula]
        if len(rows) < 2:
            continue
        for g, members in enumerate(matcher.group_structures([ds.inputs.iloc[i] for i in rows])):
            ids = {id(s) for s in members}
            for i in rows:
                if id(ds.inputs.iloc[i]) in ids:
                    keys[i] = f"{formula}#{g}"
    return keys


def conflicts(ds: Dataset, groups: np.ndarray, names: list[str]) -> dict:
    """Materials in more than one source, and how far their values differ per pair of sources."""
    src = ds.extra["source"].to_numpy()
    y = ds.target.to_numpy(dtype=float)
    frame = pd.DataFrame({"material": groups, "source": src, "y": y})
    per = frame.groupby(["material", "source"])["y"].mean().unstack()
    shared = per.dropna(thresh=2)
    pairs = []
    for a, b in combinations(names, 2):
        if a not in per or b not in per:
            continue
        both = per[[a, b]].dropna()
        if both.empty:
            continue
        diff = (both[a] - both[b]).to_numpy()
        worst = both.assign(d=np.abs(diff)).sort_values("d", ascending=False).head(5)
        pairs.append({"sources": [a, b], "n_shared": int(len(both)),
                      "mean_difference": float(diff.mean()), "mean_abs_difference": float(np.abs(diff).mean()),
                      "max_abs_difference": float(np.abs(diff).max()),
                      "largest": [{"material": m, a: float(r[a]), b: float(r[b])} for m, r in worst.iterrows()]})
    return {"n_materials": int(per.shape[0]), "n_shared": int(len(shared)),
            "per_source_rows": {n: int((src == n).sum()) for n in names}, "pairs": pairs}


def apply_policy(ds: Dataset, groups: np.ndarray, policy: str) -> Dataset:
    if policy == "keep":
        return ds
    src = ds.extra["source"].to_numpy()
    if policy.startswith("prefer:"):
        best = policy.split(":", 1)[1]
        has_best = {g for g, s in zip(groups, src) if s == best}
        keep = [i for i, (g, s) in enumerate(zip(groups, src)) if s == best or g not in has_best]
        out = ds.subset(keep)
        out.source["merge_dropped"] = [str(ds.ids[i]) for i in range(len(ds)) if i not in set(keep)]
        return out
    # mean: one row per material, the first row's input, the mean target, source = all sources
    first: dict = {}
    for i, g in enumerate(groups):
        first.setdefault(g, i)
    rows = sorted(first.values())
    y = pd.Series(ds.target.to_numpy(dtype=float)).groupby(groups).mean()
    srcs = pd.Series(src).groupby(groups).agg(lambda s: "+".join(sorted(set(s))))
    out = ds.subset(rows)
    keys = [groups[i] for i in rows]
    out.target = pd.Series(y.loc[keys].to_numpy(), index=out.target.index, name=out.target.name)
    if ds.is_classification:
        out.target = (out.target >= 0.5).astype(int)
    out.extra = pd.DataFrame({"source": srcs.loc[keys].to_numpy()}, index=out.target.index)
    return out
