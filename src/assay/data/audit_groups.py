"""Duplicates (same formula, reduced formula, composition or structure) and the chemistry the
test folds share with training: the two ways a score can flatter a model without it learning."""
from __future__ import annotations

import math
import random
import warnings

import numpy as np

from .audit_stats import is_conflicting
from .chemistry import DUPLICATE_LEVELS, composition_of, duplicate_key
from .dataset import Dataset


def _keys(dataset: Dataset, level: str) -> list:
    out = []
    for item in dataset.inputs:
        try:
            out.append(duplicate_key(item, level))
        except ValueError:  # an unparsable formula is nobody's duplicate
            out.append(None)
    return out


def duplicate_groups(dataset: Dataset, level: str, keys: list | None = None) -> list[list[int]]:
    """Positional row groups (size > 1) sharing a key at ``level``, in order of first appearance."""
    if level not in DUPLICATE_LEVELS:
        raise ValueError(f"unknown duplicate level {level!r}; choose one of {DUPLICATE_LEVELS}")
    keys = _keys(dataset, level) if keys is None else keys
    return _group(keys)


def _group(keys) -> list[list[int]]:
    groups: dict = {}
    for i, k in enumerate(keys):
        if k is not None:
            groups.setdefault(k, []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def _key_text(key) -> str:
    if isinstance(key, tuple) and key and isinstance(key[0], tuple):
        return " ".join(f"{el}:{amt:g}" for el, amt in key)
    if isinstance(key, tuple):
        return " ".join(str(k) for k in key)
    return str(key)


def _describe_groups(dataset: Dataset, groups, keys, tol: float) -> dict:
    ids = list(dataset.ids)
    y = dataset.target.tolist()
    out = []
    for g in groups:
        t = [y[i] for i in g]
        entry = {"key": _key_text(keys[g[0]]), "ids": [ids[i] for i in g], "targets": t,
                 "conflicting": is_conflicting(t, dataset.task_type, tol)}
        if dataset.task_type == "regression":
            finite = [v for v in t if np.isfinite(v)]
            entry["range"] = (max(finite) - min(finite)) if finite else None
        out.append(entry)
    return {"n_groups": len(out), "n_rows": sum(len(g) for g in groups),
            "n_extra_rows": sum(len(g) - 1 for g in groups),
            "n_conflicting": sum(e["conflicting"] for e in out), "groups": out}


def _space_group(structure, symprec: float) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # spglib's deprecation chatter, once per call
            symbol, number = structure.get_space_group_info(symprec=symprec)
        return f"{symbol} ({number})"
    except Exception:  # spglib gives up on some cells; such a row is just not compared
        return None


def _structure_duplicates(dataset, reduced_keys, tol, symprec, max_symmetry, seed, notes) -> dict:
    """Same reduced formula and space group. Only rows sharing a reduced formula can match, so
    symmetry is computed for those alone; above ``max_symmetry`` of them, whole groups are
    sampled."""
    candidates = _group(reduced_keys)
    n_candidates = sum(len(g) for g in candidates)
    chosen, sampled = candidates, False
    if n_candidates > max_symmetry:
        order = list(range(len(candidates)))
        random.Random(seed).shuffle(order)
        chosen, total = [], 0
        for k in order:
            if total + len(candidates[k]) > max_symmetry:
                continue
            chosen.append(candidates[k])
            total += len(candidates[k])
        chosen.sort(key=lambda g: g[0])
        sampled = True
    keys: list = [None] * len(dataset)
    inputs = list(dataset.inputs)
    for g in chosen:
        for i in g:
            sg = _space_group(inputs[i], symprec)
            keys[i] = None if sg is None else (reduced_keys[i], sg)
    result = _describe_groups(dataset, _group(keys), keys, tol)
    n_checked = sum(len(g) for g in chosen)
    result.update({"symprec": symprec, "n_candidates": n_candidates, "n_checked": n_checked,
                   "sampled": sampled})
    if sampled:
        notes.append(f"Space groups were computed for {n_checked} of the {n_candidates} "
                     f"structures that share a reduced formula (whole groups sampled at random, "
                     f"limit {max_symmetry}); structure duplicates may be undercounted.")
    return result


# -------------------------------------------------------------------------------- overlap
def chemistry_overlap(dataset: Dataset, folds, element_sets: list | None = None,
                      reduced: list | None = None) -> dict:
    """Per fold: share of test rows whose chemical system, every element, and reduced formula
    occur among training rows. High shares mean the test set asks about familiar chemistry."""
    if element_sets is None:
        element_sets = [_elements(item) for item in dataset.inputs]
    if reduced is None:
        reduced = _keys(dataset, "reduced_formula")
    per_fold = []
    for k, (train, test) in enumerate(folds):
        train, test = np.asarray(train), np.asarray(test)
        systems = {element_sets[i] for i in train if element_sets[i] is not None}
        elements = set().union(*systems) if systems else set()
        formulas = {reduced[i] for i in train if reduced[i] is not None}
        usable = [i for i in test if element_sets[i] is not None]
        n = len(usable)
        share = (lambda hits: hits / n if n else float("nan"))
        per_fold.append({
            "fold": k, "n_train": int(len(train)), "n_test": int(len(test)),
            "chemsys_seen_share": share(sum(element_sets[i] in systems for i in usable)),
            "elements_seen_share": share(sum(element_sets[i] <= elements for i in usable)),
            "formula_seen_share": share(sum(reduced[i] in formulas for i in usable)),
        })

    def mean(key):
        vals = [f[key] for f in per_fold if not math.isnan(f[key])]
        return float(np.mean(vals)) if vals else float("nan")
    return {"folds": per_fold, "mean_chemsys_seen_share": mean("chemsys_seen_share"),
            "mean_elements_seen_share": mean("elements_seen_share"),
            "mean_formula_seen_share": mean("formula_seen_share")}


def _elements(item):
    try:
        return frozenset(el.symbol for el in composition_of(item).elements)
    except ValueError:
        return None

