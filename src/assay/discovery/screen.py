"""Proposing the next experiments: rank candidates with a finished run's model, its 90% interval
(or calibrated probability) and its applicability-domain flag.

Why a 'refused' table and not an error: a candidate list is often long and hand-made; one
unreadable formula should not cost the ranking of the rest. Rows that cannot be featurised are
never given a number; they are listed with their row and reason in ``refused.csv`` (and on the
console). Only when no row can be ranked does screening stop with an error listing them.

Acquisitions: ``prediction`` (the best predicted value), ``ucb`` (prediction + 2 sigma in the
goal's direction, sigma from the conformal interval: width / (2 x 1.645)) and ``ei`` (expected
improvement over the best value in the training data). For classification the score is the
probability of the goal class (``ucb`` adds its Bernoulli spread; ``ei`` equals ``prediction``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..data.chemistry import composition_key
from ..errors import AssayError
from ..explanation.predict import predict_file, predict_frame, spreadsheet_safe
from ..run.folder import RunFolder
from ..run.resolve import load_dataset
from .acquisition import Goal, acquisition_scores
from .candidates import substitutions
from .plots import pareto_front, plot_pareto

ACQUISITIONS = {"prediction": "greedy", "ucb": "ucb", "ei": "expected-improvement"}


@dataclass
class ScreenResult:
    ranked: pd.DataFrame  # every ranked candidate, best first
    refused: pd.DataFrame  # row, input, reason
    info: dict = field(default_factory=dict)
    paths: dict = field(default_factory=dict)

    def top(self, n: int | None = None) -> pd.DataFrame:
        return self.ranked.head(n or self.info.get("n", 20))


def screen(run_dir, candidates=None, *, goal: str = "max", n: int = 20,
           acquisition: str = "prediction", generate: str | None = None,
           input_column: str | None = None, max_generated: int = 2000, seed: int = 0,
           new_elements: bool = False, write: bool = True) -> ScreenResult:
    """Rank the candidates of a file and/or generated substitutions; write RUN/screen/."""
    if acquisition not in ACQUISITIONS:
        raise AssayError(f"--acquisition must be one of {', '.join(ACQUISITIONS)}, not {acquisition!r}")
    if generate not in (None, "substitutions"):
        raise AssayError(f"--generate knows 'substitutions', not {generate!r}")
    if candidates is None and generate is None:
        raise AssayError("give a candidates file, or --generate substitutions, or both")
    folder = RunFolder(run_dir)
    folder.require_finished()
    if not folder.has("model.joblib"):
        raise AssayError(f"{folder.path} has no refit model (model.joblib)")
    ds = load_dataset(folder.read_config(), progress=False)
    g = Goal.parse(goal, ds.task_type, ds.class_labels)
    parts = []
    if candidates is not None:
        frame = predict_file(folder.path, candidates, input_column=input_column)
        frame.insert(0, "source", "file row " + pd.Series(np.arange(1, len(frame) + 1)).astype(str))
        frame.insert(0, "row", np.arange(1, len(frame) + 1))
        parts.append(frame)
    n_generated = 0
    if generate:
        gen = substitutions(list(ds.inputs), max_candidates=max_generated, seed=seed,
                            new_elements=new_elements)
        n_generated = len(gen)
        if n_generated:
            pred = predict_frame(folder.path, gen["input"].reset_index(drop=True))
            pred.insert(0, "source", "substitution " + gen["swap"] + " in " + gen["parent"])
            pred.insert(0, "row", np.nan)
            for col in ("similarity", "charge_balanced"):
                pred[col] = gen[col].to_numpy()
            parts.append(pred)
    if not parts:
        raise AssayError("no candidates: the substitutions gave none that is not already known")
    allc = pd.concat(parts, ignore_index=True)
    return _rank(folder, ds, allc, g, acquisition, n, write,
                 {"candidates_file": str(candidates) if candidates is not None else None,
                  "generate": generate, "n_generated": n_generated, "seed": seed,
                  "new_elements": new_elements})


def _uncertainty(df: pd.DataFrame, target: str, clf: bool, goal: Goal):
    """(goal-direction score column, sigma, name of the uncertainty shown)."""
    if clf:
        pcol = "probability (calibrated)" if "probability (calibrated)" in df else "probability"
        if pcol not in df:
            raise AssayError("the run's model gives no probabilities; screening a class needs them")
        p = df[pcol].astype(float).to_numpy()
        p = p if goal.value == 1 else 1 - p
        return p, np.sqrt(p * (1 - p)), "Bernoulli spread sqrt(p(1-p))"
    mu = df[f"predicted {target}"].astype(float).to_numpy()
    lo = next((c for c in df if c.startswith("lower ")), None)
    hi = next((c for c in df if c.startswith("upper ")), None)
    if lo is None or hi is None:
        return mu, np.full(len(df), np.nan), "none (no interval)"
    level = float(lo.split()[1].rstrip("%")) / 100
    z = norm.ppf(0.5 + level / 2)
    return mu, (df[hi].astype(float) - df[lo].astype(float)).to_numpy() / (2 * z), \
        f"sigma = {lo[6:]} interval width / {2 * z:.2f}"


def _rank(folder, ds, allc, goal, acquisition, n, write, extra) -> ScreenResult:
    target, clf = ds.target_name, ds.is_classification
    pred_col = f"predicted {target}"
    ok = allc[pred_col].notna() if not clf else allc.get("probability", allc[pred_col]).notna()
    refused = allc.loc[~ok, ["row", "source", "input", "note"]].rename(columns={"note": "reason"})
    ranked = allc.loc[ok].copy()
    if ranked.empty:
        listing = "; ".join(f"{s}: {i!r}: {r}" for s, i, r in
                            zip(refused["source"], refused["input"], refused["reason"]))
        raise AssayError(f"no candidate could be featurised, so none is ranked: {listing}")
    mu, sigma, unc_name = _uncertainty(ranked, target, clf, goal)
    y = ds.y()
    best = None if clf else float(goal.sign * np.max(goal.sign * y))
    score = acquisition_scores(ACQUISITIONS[acquisition], mu, np.nan_to_num(sigma), goal, best,
                               ds.task_type)
    if clf and acquisition == "ucb":
        score = mu + sigma
    if clf:
        ranked["goal probability"] = mu
    ranked["uncertainty"] = sigma
    ranked["score"] = score
    known = {composition_key(x): v for x, v in zip(ds.inputs, y)} if ds.input_type == "composition" else {}
    ranked["known value"] = [known.get(_safe_key(x)) for x in ranked["input"]]
    ranked["pareto"] = pareto_front(mu, sigma, 1.0 if clf else goal.sign)
    ranked["reason"] = [_reason(r, pred_col, acquisition, clf) for _, r in ranked.iterrows()]
    ranked = ranked.sort_values("score", ascending=False, kind="mergesort").reset_index(drop=True)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    info = {"goal": goal.text, "direction": goal.direction, "acquisition": acquisition, "n": n,
            "n_ranked": int(len(ranked)), "n_refused": int(len(refused)),
            "n_out_of_domain": int((ranked.get("domain", pd.Series(dtype=str)) == "OUT").sum()),
            "uncertainty": unc_name, "best_in_training": best, "target": target, **extra}
    res = ScreenResult(ranked, refused.reset_index(drop=True), info)
    if write:
        out = "screen"
        table = ranked.drop(columns=["input"]) if ds.input_type == "structure" else ranked
        res.paths["ranked"] = folder.write_text(f"{out}/ranked.csv", spreadsheet_safe(
            table.assign(input=table["input"].astype(str)) if "input" in table else table).to_csv(index=False))
        res.paths["refused"] = folder.write_text(f"{out}/refused.csv", spreadsheet_safe(
            res.refused.assign(input=res.refused["input"].astype(str))).to_csv(index=False))
        top = ranked.head(n).drop(columns=["input"]).to_dict(orient="records")
        folder.write_json(f"{out}/screen.json", {**info, "top": _plain(top)})
        res.paths["screen"] = folder.file(f"{out}/screen.json")
        res.paths["pareto"] = plot_pareto(ranked, "goal probability" if clf else pred_col,
                                          "uncertainty", 1.0 if clf else goal.sign,
                                          folder.file(f"{out}/pareto.png"), n)
    return res


def _safe_key(x):
    try:
        return composition_key(x)
    except Exception:  # noqa: BLE001
        return None


def _reason(r, pred_col, acquisition, clf) -> str:
    if clf:
        why = f"P(goal class) {r['goal probability']:.2f}; {acquisition} score {r['score']:.3g}"
    else:
        lo = next((k for k in r.index if str(k).startswith("lower ")), None)
        hi = next((k for k in r.index if str(k).startswith("upper ")), None)
        band = f" ({lo[6:]}: {r[lo]:.3g} to {r[hi]:.3g})" if lo and hi and pd.notna(r[lo]) else ""
        why = f"predicted {r[pred_col]:.3g}{band}; {acquisition} score {r['score']:.3g}"
    dom = r.get("domain")
    note = str(r.get("note") or "")
    if dom == "OUT":
        why += f"; OUT of domain: {note or 'far from training data'}"
    elif dom == "in":
        why += "; in domain"
    if r.get("known value") is not None and pd.notna(r.get("known value")):
        why += f"; already in the data (measured {r['known value']:.3g})"
    return why


def _plain(rows):
    return [{k: (None if isinstance(v, float) and not np.isfinite(v) else
                 v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in rows]
