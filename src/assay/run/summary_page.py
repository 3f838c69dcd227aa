"""The short HTML summary every run writes: scores against baselines and the leaderboard."""
from __future__ import annotations

import html
import json

from ..data.dataset import Dataset
from ..data.leaderboard import rank_against
from ..data.tasks import primary_metric
from ..store.atomic import atomic_write_text

CSS = """body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.ours{background:#fff3c4;font-weight:600}
.note{color:#555;font-size:.9em}"""


OURS = ' class="ours"'


def _fmt(x, nd=4):
    try:
        return f"{x:.{nd}f}"
    except (TypeError, ValueError):
        return html.escape(str(x))


def write_summary_html(result, ds: Dataset) -> str:
    metrics = ["mae", "rmse", "mape", "max_error", "r2"] if not ds.is_classification else \
        ["rocauc", "balanced_accuracy", "accuracy", "f1", "roc_auc_true"]
    primary = primary_metric(ds.task_type)
    feats = result.path / "features.json"
    preset = json.loads(feats.read_text()).get("preset") if feats.is_file() else None
    preset = str(preset or result.config.features)
    rows = []
    for model, s in result.summary.items():
        cells = "".join(f"<td>{_fmt(s[m]['mean'])} ± {_fmt(s[m]['std'])}</td>" for m in metrics if m in s)
        mark = ' class="ours"' if model == result.config.primary else ""
        rows.append(f"<tr{mark}><td>{html.escape(model)}</td>{cells}</tr>")
    header = "".join(f"<th>{m}</th>" for m in metrics)
    folds = result.scores.pivot(index="model", columns="fold", values=primary)
    fold_rows = "".join(
        f"<tr><td>{html.escape(str(m))}</td>" + "".join(f"<td>{_fmt(v)}</td>" for v in r) + "</tr>"
        for m, r in folds.iterrows())
    lb_html = ""
    if ds.task is not None:
        s = result.summary[result.config.primary][primary]
        lb = rank_against(ds.task.name, f"assay {result.config.primary} ({preset})",
                          s["mean"], s["std"])
        lb_rows = "".join(
            f"<tr{OURS if r.is_ours else ''}><td>{r.rank}</td><td>{html.escape(r.algorithm)}</td>"
            f"<td>{_fmt(r.mean)}</td><td>{_fmt(r.std)}</td></tr>" for r in lb.itertuples())
        lb_html = (f"<h2>Leaderboard ({primary})</h2><table><tr><th>rank</th><th>algorithm</th>"
                   f"<th>mean</th><th>std</th></tr>{lb_rows}</table>"
                   + ("<p class=note>The leaderboard's 'rocauc' is computed from hard labels and "
                      "equals balanced accuracy; roc_auc_true above uses probabilities.</p>"
                      if ds.is_classification else ""))
    unit = f" ({html.escape(ds.unit)})" if ds.unit else ""
    split = result.split or result.config.split
    doc = f"""<!doctype html><html><head><meta charset="utf-8"><title>assay run {html.escape(result.run_id)}</title>
<style>{CSS}</style></head><body>
<h1>{html.escape(ds.name)}: {html.escape(ds.target_name)}{unit}</h1>
<p>{len(ds)} rows, {ds.input_type} input, {ds.task_type}. Features: <code>{html.escape(preset)}</code>.
Split: <code>{html.escape(str(split))}</code> ({result.scores['fold'].nunique()} folds). Seed {result.config.seed}.
Primary model (declared before testing): <b>{html.escape(result.config.primary)}</b>.</p>
<h2>Scores (fold mean ± std, ddof=0)</h2><table><tr><th>model</th>{header}</tr>{''.join(rows)}</table>
<h2>Per-fold {primary}</h2><table><tr><th>model</th>{''.join(f'<th>fold {k}</th>' for k in folds.columns)}</tr>{fold_rows}</table>
{lb_html}
<p class=note>Wall time {result.timings.get('total', float('nan')):.1f} s. Run folder: {html.escape(str(result.path))}</p>
</body></html>"""
    atomic_write_text(result.path / "summary.html", doc)
    return doc
