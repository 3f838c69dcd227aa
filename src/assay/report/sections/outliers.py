"""Section 8, outliers worth a look: the largest errors (or most confident mistakes) with
compositions, counterfactual edits of the worst few, and where in chemical space and in the
periodic table the errors are."""
from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pymatgen.core import Composition

from ...errors import AssayError
from ...explanation.counterfactual import counterfactuals
from ...explanation.predict import predict_frame
from ..html import Raw, esc, fmt, table
from ..matrix import memo
from . import chemical_space, periodic_table

if TYPE_CHECKING:
    from ..builder import ReportBuilder


def build(b: ReportBuilder) -> None:
    r = b.run
    p = r.preds().copy()
    comp = r.inputs
    p["composition"] = p["id"].astype(str).map(comp) if comp else "–"
    p["composition"] = [Raw(f'<span class=comp>{esc(pretty_formula(c))}</span>') for c in p["composition"]]
    p["id"] = [Raw(f'<span class=nw>{esc(i)}</span>') for i in p["id"]]
    flagged = set()
    if r.audit and r.audit.get("outliers"):
        flagged = set(map(str, r.audit["outliers"].get("iqr", {}).get("ids", [])))
    parts, md = [], []
    if comp is None:
        parts.append("<p class=note>The input data could not be reloaded, so compositions are not shown.</p>")
    if r.is_classification:
        if p["y_proba"].notna().any():
            p["confidence in wrong class"] = np.where(p["y_true"].astype(int) == 1, 1 - p["y_proba"], p["y_proba"])
            wrong = p[p["y_true"].astype(int) != p["y_pred"].astype(int)].sort_values(
                "confidence in wrong class", ascending=False).head(15)
            parts.append(f"<h3>Most confident wrong predictions of {esc(r.primary_model)}</h3>")
            parts.append(table([[i, c, int(t), int(y), pr, f] for i, c, t, y, pr, f in zip(
                wrong["id"], wrong["composition"], wrong["y_true"], wrong["y_pred"], wrong["y_proba"], wrong["fold"])],
                ["id", "composition", "true", "predicted", "P(class 1)", "fold"], left=2))
        else:
            wrong = p[p["y_true"].astype(int) != p["y_pred"].astype(int)].head(15)
            parts.append(f"<h3>Wrong predictions of {esc(r.primary_model)} (first 15)</h3>" + table(
                [[i, c, int(t), int(y), f] for i, c, t, y, f in zip(
                    wrong["id"], wrong["composition"], wrong["y_true"], wrong["y_pred"], wrong["fold"])],
                ["id", "composition", "true", "predicted", "fold"], left=2))
        n_wrong = int((p["y_true"].astype(int) != p["y_pred"].astype(int)).sum())
        md.append(f"{n_wrong} of {len(p)} test predictions are wrong.")
    else:
        p["error"] = p["y_pred"] - p["y_true"]
        p["abs"] = p["error"].abs()
        top = p.sort_values("abs", ascending=False).head(15)
        parts.append(f"<h3>Largest errors of {esc(r.primary_model)}</h3>")
        parts.append(table([[i, c, t, y, e, f, "yes" if _text(i) in flagged else ""] for i, c, t, y, e, f in zip(
            top["id"], top["composition"], top["y_true"], top["y_pred"], top["error"], top["fold"])],
            ["id", "composition", "measured", "predicted", "error", "fold", "target outlier (IQR)"], left=2))
        share = top["abs"].sum() / max(p["abs"].sum(), 1e-12)
        n_fl = sum(_text(i) in flagged for i in top["id"])
        parts.append(f"<p>These {len(top)} rows ({len(top) / len(p):.1%} of the data) carry "
                     f"{share:.1%} of the total absolute error; {n_fl} of them are target outliers "
                     f"by the audit's IQR rule. Check them for unit or transcription errors before "
                     f"trusting the model's weak spots.</p>")
        md.append(f"The {len(top)} largest errors carry {share:.1%} of the total absolute error; "
                  f"{n_fl} are IQR target outliers.")
        hi = p.sort_values("y_pred", ascending=False).head(5)
        lo = p.sort_values("y_pred").head(5)
        ext = pd.concat([hi.assign(kind="highest"), lo.assign(kind="lowest")])
        parts.append("<h3>Most extreme predictions</h3>" + table(
            [[k, i, c, y, t, e] for k, i, c, y, t, e in zip(ext["kind"], ext["id"], ext["composition"],
                                                             ext["y_pred"], ext["y_true"], ext["error"])],
            ["", "id", "composition", "predicted", "measured", "error"], left=3))
    worst = _worst(r)
    cf_html, cf_md = memo(b, "counterfactuals", lambda: _counterfactuals(b, worst))
    cs_html, cs_md = chemical_space.build(b)
    pt_html, pt_md = periodic_table.build(b)
    b.add("outliers", "".join(parts) + cf_html + cs_html + pt_html, md + cf_md + cs_md + pt_md)


N_COUNTERFACTUALS = 3
CF_SECONDS = 30.0  # the counterfactual search stops starting new rows after this


def _worst(r) -> pd.DataFrame:
    """The rows the model got most wrong: largest |error|, or most confident wrong class."""
    p = r.preds().copy()
    if r.is_classification:
        wrong = p[p["y_true"].astype(int) != p["y_pred"].astype(int)].copy()
        if wrong["y_proba"].notna().any():
            wrong["badness"] = np.where(wrong["y_true"].astype(int) == 1, 1 - wrong["y_proba"], wrong["y_proba"])
        else:
            wrong["badness"] = 1.0
        return wrong.sort_values("badness", ascending=False, kind="stable")
    p["badness"] = (p["y_pred"] - p["y_true"]).abs()
    return p.sort_values("badness", ascending=False, kind="stable")


def _counterfactuals(b: ReportBuilder, worst: pd.DataFrame) -> tuple[str, list[str]]:
    """``assay counterfactual`` for the worst few rows, with the run's refit model.

    The refit model was trained on every row, this one included, so it may already predict the
    measured value (it has learnt the row); then the search asks the other way round: the
    smallest edits that take it back to the out-of-fold prediction, i.e. how narrow the island
    the row makes is. Otherwise: the smallest edits after which it predicts the measured value.
    """
    r = b.run
    head = "<h3>Counterfactuals: what would the model need to see?</h3>"
    if r.dataset.get("input_type", "composition") != "composition":
        return head + ("<p class=note>Counterfactual edits change a composition; this run was "
                       "trained on structures, whose edits (substitutions inside a fixed lattice) "
                       "the search does not make, so none are shown.</p>"), []
    comp = r.inputs or {}
    trust = (r.path / "trust" / "predictor.joblib").is_file()
    t0 = time.perf_counter()
    blocks, md, done = [], [], 0
    for row in worst.head(N_COUNTERFACTUALS).itertuples():
        formula = comp.get(str(row.id))
        if not formula:
            continue
        if time.perf_counter() - t0 > CF_SECONDS:
            blocks.append(f"<p class=note>Stopped after {done} materials (time budget "
                          f"{CF_SECONDS:g} s for the report).</p>")
            break
        done += 1
        refit = predict_frame(r.path, pd.Series([formula]), trust=False)[f"predicted {r.target}"].iloc[0]
        measured, island = _want(r.is_classification, row.y_true, row.y_pred, refit)
        name = (f"{esc(pretty_formula(formula))} <span class=note>(id {esc(row.id)}: measured "
                f"{fmt(row.y_true)}, out-of-fold prediction {fmt(row.y_pred)}"
                + (f", P(class 1) {fmt(row.y_proba)}" if r.is_classification and row.y_proba == row.y_proba else "")
                + f"; the refit model predicts {_label(refit, r.is_classification)})</span>")
        want = island or measured
        goal = (f"back to the out-of-fold side ({_goal_text(island)}): the refit model has learnt this "
                f"material, and these edits show how narrow that exception is" if island else
                f"the measured side ({_goal_text(measured)})")
        try:
            res = counterfactuals(r.path, formula, want, max_edits=2, beam=6, n_results=3, trust=trust)
        except AssayError as exc:
            blocks.append(f"<p><b>{name}</b>: {esc(exc)}</p>")
            continue
        blocks.append(f"<p><b>{name}</b> — smallest edits predicted {goal}:</p>"
                      + _cf_table(res["results"], r.target, r.is_classification))
        blocks.extend(f"<p class=note>{esc(n)}</p>" for n in res["notes"])
        first = res["results"].iloc[0]
        md.append(f"{formula}: '{first['edits']}' makes the refit model predict {_goal_text(want)}"
                  + (" (the out-of-fold side: the refit model learnt this row)." if island else "."))
    if not blocks:
        return "", []
    intro = (f"<p>For the {done} worst-predicted materials, the smallest chemically sensible edits "
             f"(a substitution by a similar element, or ±5–10 at.% of one component) that change "
             f"the prediction of {esc(r.primary_model)} refitted on all rows (the model "
             f"<code>assay predict</code> uses), by the search of <code>assay counterfactual RUN "
             f"FORMULA --want …</code>. Where the refit model, which saw the material, already "
             f"predicts the measured value, the search goes the other way: a measurement that a "
             f"5 at.% edit undoes sits at a sharp boundary or is mislabelled, and its source is "
             f"worth checking. ")
    intro += ("Intervals, calibrated probabilities and domain flags come from the run's "
              "<code>trust/predictor.joblib</code>.</p>" if trust else
              "Run <code>assay explain</code> to add intervals (or calibrated probabilities) and "
              "the applicability-domain flag to each edit.</p>")
    return (head + intro + "".join(blocks) +
            f"<p class=note>Searched in {time.perf_counter() - t0:.1f} s.</p>"), md


def _want(is_clf: bool, y_true, y_oof, refit) -> tuple[str, str | None]:
    """(the wish towards the measured value, the wish back to the out-of-fold side when the
    refit model already reaches the measured one, else None), in ``--want`` syntax."""
    if is_clf:
        measured, oof = str(int(y_true)), str(int(y_oof))
        try:
            reached = float(refit) == float(y_true)
        except (TypeError, ValueError):  # a text label (metal / nonmetal): the search names it
            reached = False
        return measured, (oof if reached else None)
    up = y_oof > y_true
    measured = f"{'<' if up else '>'}{y_true:.4g}"
    mid = 0.5 * (y_true + y_oof)
    reached = refit == refit and ((refit < mid) if up else (refit > mid))
    return measured, (f"{'>' if up else '<'}{mid:.4g}" if reached else None)


def _label(v, is_clf: bool) -> str:
    try:
        return str(int(float(v))) if is_clf else fmt(v)
    except (TypeError, ValueError):
        return esc(v)


def _goal_text(want: str) -> str:
    return f"class {want}" if want[0] not in "<>" else want


def _cf_table(res: pd.DataFrame, target: str, is_clf: bool) -> str:
    keep = ["edits", "input", f"predicted {target}", "probability", "probability (calibrated)",
            "lower 90%", "upper 90%", "domain", "note"]
    res = res.copy()
    if is_clf:
        res[f"predicted {target}"] = [str(v if not isinstance(v, float) else int(v)) for v in res[f"predicted {target}"]]
    cols = [c for c in keep if c in res.columns and not (res[c].astype(str) == "").all()]
    rows = [[Raw(f'<span class=comp>{esc(v)}</span>') if c == "input" else v for c, v in zip(cols, vals)]
            for vals in res[cols].itertuples(index=False)]
    return table(rows, cols, left=2)


def pretty_formula(text, max_elements: int = 12) -> str:
    """A composition as readable, wrappable text: elements by amount, 3 significant digits."""
    try:
        comp = Composition(str(text))
    except Exception:  # noqa: BLE001 - not a formula: show as is
        return str(text)
    items = sorted(comp.get_el_amt_dict().items(), key=lambda kv: -kv[1])
    if all(float(a).is_integer() for _, a in items) and len(items) <= max_elements:
        return comp.reduced_formula if comp.num_atoms < 100 else str(text)
    out = " ".join(f"{el}{a:.3g}" for el, a in items[:max_elements])
    return out + (f" … (+{len(items) - max_elements})" if len(items) > max_elements else "")


def _text(x) -> str:
    return re.sub(r"<[^>]+>", "", str(x))
