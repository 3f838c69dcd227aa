"""``assay counterfactual``: the smallest chemically sensible edits of a composition that reach a
wanted prediction.

An edit is either a substitution of one element by a similar one (same group and neighbouring
row, or same block with close electronegativity and radius) or a change of one component's
atomic fraction by whole steps, the others rescaled. The search is breadth-first over one edit,
then a beam over two: the candidates of each level are predicted in one batch by
:func:`~assay.explanation.predict.predict_frame`, so every result carries the run's own interval
or calibrated probability and applicability-domain flag. A composition with an element the
model never saw is *not* refused: it and every result keeping that element are flagged OUT of
domain (with the reason), and substitutions of that element by a seen one are offered.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Element

from ..errors import AssayError
from ..run.folder import RunFolder
from .predict import predict_frame

#: Elements never proposed: noble gases, short-lived or radioactive-only elements.
EXCLUDED = {"He", "Ne", "Ar", "Kr", "Xe", "Rn", "Tc", "Pm", "Po", "At", "Fr", "Ra"}
MAX_Z = 83  # Bi; heavier elements are all radioactive
MAX_X_GAP = 0.2  # Pauling electronegativity difference of "similar" elements of one block
MAX_R_GAP = 0.15  # atomic radius difference (angstrom) of "similar" elements of one block
WANT_RE = re.compile(r"^\s*(>=|<=|>|<)\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class Want:
    """What the user wants: a class (classification) or a side of a threshold (regression)."""
    label: str | None = None
    op: str | None = None
    value: float | None = None

    def __str__(self) -> str:
        return f"class {self.label}" if self.label is not None else f"{self.op} {self.value:g}"


def parse_want(text: str, task_type: str) -> Want:
    text = str(text).strip()
    if task_type == "regression":
        m = WANT_RE.match(text)
        if not m:
            raise AssayError(f"--want {text!r}: for a regression run give a side of a threshold, "
                             "e.g. '>2.0' or '<1.5'")
        return Want(op=m.group(1), value=float(m.group(2)))
    if WANT_RE.match(text):
        raise AssayError(f"--want {text!r}: this is a classification run; give the wanted class, e.g. 1")
    return Want(label=text)


def _same(label, want: str) -> bool:
    if label is None or (isinstance(label, float) and math.isnan(label)):
        return False
    try:
        return float(label) == float(want)
    except (TypeError, ValueError):
        return str(label).strip().lower() == want.lower()


def _sensible(el: Element) -> bool:
    return el.Z <= MAX_Z and el.symbol not in EXCLUDED


def similar_elements(symbol: str, limit: int = 8) -> list[str]:
    """Elements like ``symbol``: same group one row up or down, or same block with
    electronegativity within 0.2 and atomic radius within 0.15 angstrom; nearest first."""
    e = Element(symbol)
    xe, re_ = e.X, e.atomic_radius
    found = []
    for z in range(1, MAX_Z + 1):
        s = Element.from_Z(z)
        if s == e or not _sensible(s):
            continue
        same_group = s.group == e.group and abs(s.row - e.row) <= 1 and e.block != "f"
        dx = abs(s.X - xe) if not (math.isnan(s.X) or math.isnan(xe)) else math.inf
        dr = abs(float(s.atomic_radius) - float(re_)) if s.atomic_radius and re_ else math.inf
        close = s.block == e.block and dx <= MAX_X_GAP and dr <= MAX_R_GAP
        if same_group or close:
            found.append((0 if same_group else 1, dx + dr, s.symbol))
    return [sym for *_, sym in sorted(found)[:limit]]


def _fractions(formula: str) -> dict[str, float]:
    try:
        comp = Composition(formula)
    except (ValueError, KeyError) as exc:
        raise AssayError(f"{formula!r} is not a composition: {exc}") from None
    if comp.num_atoms <= 0:
        raise AssayError(f"{formula!r} has no atoms")
    unknown = [str(el) for el in comp.elements if not isinstance(el, Element)]
    if unknown:
        raise AssayError(f"{formula!r} is not a composition: {', '.join(unknown)} is no element")
    return {str(el): float(comp.get_atomic_fraction(el)) for el in comp.elements}


def _formula(fr: dict[str, float], total: float) -> str:
    """Written on the input's scale (Fe80B20 stays in percent, Fe0.8B0.2 in fractions)."""
    return "".join(f"{el}{float(f'{v * total:.4g}'):g}" for el, v in fr.items())


def _key(fr: dict[str, float]) -> tuple:
    return tuple(sorted((el, round(v, 6)) for el, v in fr.items()))


def single_edits(fr: dict[str, float], step: float = 0.05, max_steps: int = 2,
                 introduced: frozenset = frozenset()):
    """(description, new fractions, introduced elements) for every one-edit neighbour of ``fr``;
    an element brought in by a substitution is not substituted again (Al→Ga→Ge is no small edit)."""
    out = []
    for el, f in fr.items():
        for sub in ([] if el in introduced else similar_elements(el)):
            if sub in fr:
                continue
            out.append((f"{el}→{sub}", {(sub if k == el else k): v for k, v in fr.items()},
                        introduced | {sub}))
        if len(fr) < 2:
            continue
        for k in range(-max_steps, max_steps + 1):
            d = k * step
            new = f + d
            if k == 0 or new <= 1e-9 or new >= 1 - 1e-9:
                continue
            scale = (1 - new) / (1 - f)
            out.append((f"{el} {d * 100:+g} at.%",
                        {o: (new if o == el else v * scale) for o, v in fr.items()}, introduced))
    return out


def _changed(a: dict[str, float], b: dict[str, float]) -> float:
    """Share of atoms changed (half the L1 distance of the two compositions)."""
    return 0.5 * sum(abs(a.get(el, 0.0) - b.get(el, 0.0)) for el in set(a) | set(b))


class _Scorer:
    """Turns predict_frame's rows into (reached?, closeness to the wish) for one run."""

    def __init__(self, run_dir, want: Want):
        folder = RunFolder(run_dir)
        self.task_type = folder.task_type
        self.target = folder.dataset_info().get("target", "target")
        self.want = want
        self.positive = "1"
        if self.task_type != "regression":
            labels = folder.load_pickle("model.joblib").get("class_labels")
            if labels:
                names = ({int(k): v for k, v in labels.items()} if isinstance(labels, dict)
                         else dict(enumerate(labels)))
                self.positive = str(names.get(1, 1))
                if not any(_same(v, want.label) for v in names.values()):
                    raise AssayError(f"--want {want.label!r}: the run's classes are {sorted(map(str, names.values()))}")
            elif want.label not in ("0", "1", "0.0", "1.0", "True", "False", "true", "false"):
                raise AssayError(f"--want {want.label!r}: the run's classes are 0 and 1")

    def score(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        pred = frame[f"predicted {self.target}"]
        if self.task_type == "regression":
            p = pred.to_numpy(float)
            op, v = self.want.op, self.want.value
            hit = {">": p > v, ">=": p >= v, "<": p < v, "<=": p <= v}[op]
            close = p if op.startswith(">") else -p
            return hit & np.isfinite(p), np.where(np.isfinite(p), close, -np.inf)
        hit = np.array([_same(v, self.want.label) for v in pred])
        proba = frame["probability"].to_numpy(float) if "probability" in frame else hit.astype(float)
        wanted_is_positive = _same(self.positive, self.want.label) or self.want.label.lower() == "true"
        close = proba if wanted_is_positive else 1 - proba
        return hit, np.where(np.isfinite(close), close, -np.inf)


def counterfactuals(run_dir, formula: str, want: str, max_edits: int = 2, beam: int = 12,
                    n_results: int = 10, step: float = 0.05, max_steps: int = 2,
                    trust: bool = True) -> dict:
    """Search edits of ``formula`` until the run predicts ``want``; returns the start row,
    the results (fewest edits first, in-domain first, fewest atoms changed first) and notes.
    ``trust=False``: no intervals or domain flags (and no predictor fitted when the run has none)."""
    folder = RunFolder(run_dir)
    if folder.dataset_info().get("input_type", "composition") != "composition":
        raise AssayError("counterfactuals edit compositions; this run was trained on structures")
    if not 1 <= max_edits <= 3:
        raise AssayError("--max-edits must be 1, 2 or 3")
    w = parse_want(want, folder.task_type)
    scorer = _Scorer(run_dir, w)
    start_fr = _fractions(formula)
    total = Composition(formula).num_atoms
    start = predict_frame(run_dir, pd.Series([formula]), trust=trust)
    if start[f"predicted {scorer.target}"].isna().all():
        raise AssayError(f"{formula!r} cannot be featurised: {start['note'].iloc[0]}")
    start_hit, _ = scorer.score(start)
    seen = {_key(start_fr)}
    frontier = [((), start_fr, frozenset())]
    hits, best = [], None
    for level in range(1, max_edits + 1):
        cands = []
        for edits, fr, intro in frontier:
            for desc, new, new_intro in single_edits(fr, step, max_steps, intro):
                k = _key(new)
                if k not in seen:
                    seen.add(k)
                    cands.append((edits + (desc,), new, new_intro))
        if not cands:
            break
        frame = predict_frame(run_dir, pd.Series([_formula(fr, total) for _, fr, _ in cands]), trust=trust)
        hit, close = scorer.score(frame)
        frame.insert(0, "edits", ["; ".join(e) for e, _, _ in cands])
        frame.insert(1, "n_edits", level)
        frame.insert(2, "atoms changed", [round(_changed(start_fr, fr), 4) for _, fr, _ in cands])
        frame["closeness"] = close
        if best is None or close.max() > best["closeness"]:
            best = frame.iloc[int(np.argmax(close))]
        if hit.any():
            hits.append(frame[hit])
            if sum(len(h) for h in hits) >= n_results:
                break
        order = np.argsort(-close, kind="stable")[:beam]
        frontier = [cands[i] for i in order if np.isfinite(close[i])]
    if not hits:
        msg = (f"no composition within {max_edits} edit(s) of {formula} reaches {w} "
               f"(substitutions by similar elements, fraction steps of {step * 100:g} at.%)")
        if best is not None:
            msg += (f"; the closest was {best['input']} ({best['edits']}), predicted "
                    f"{best[f'predicted {scorer.target}']:.4g}")
        raise AssayError(msg + ". Try --max-edits 3, a larger --step, or a less extreme target.")
    res = pd.concat(hits, ignore_index=True)
    res["_out"] = (res.get("domain", pd.Series("", index=res.index)) == "OUT").astype(int)
    res = (res.sort_values(["n_edits", "_out", "atoms changed", "closeness"],
                           ascending=[True, True, True, False], kind="stable")
           .drop(columns=["_out", "closeness"]).head(n_results).reset_index(drop=True))
    notes = []
    if bool(start_hit[0]):
        notes.append(f"{formula} is already predicted as {w}; the edits below keep it so")
    if "domain" in start and start["domain"].iloc[0] == "OUT":
        notes.append(f"{formula} is outside the applicability domain ({start['note'].iloc[0]}): "
                     "its prediction and the edits' are extrapolations")
    if "domain" in res and (res["domain"] == "OUT").all():
        notes.append("every result is outside the applicability domain: treat them as hypotheses")
    return {"start": start, "want": str(w), "results": res, "notes": notes}
