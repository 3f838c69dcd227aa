"""Section 8, outliers worth a look: the largest errors (or most confident mistakes) with compositions."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pymatgen.core import Composition

from ..html import Raw, esc, table

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
    b.add("outliers", "".join(parts), md)


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
