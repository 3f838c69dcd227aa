"""Section 1, the problem: the task, the data in numbers, and the best published results."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...data.leaderboard import task_leaderboard
from ..evidence import metric_label
from ..html import esc, fmt, table

if TYPE_CHECKING:
    from ..builder import ReportBuilder


def build(b: ReportBuilder) -> None:
    r = b.run
    ds = r.dataset
    t = r.task
    n = ds.get("n_rows", len(r.preds()))
    pm_ = metric_label(r.primary_metric)
    parts = []
    desc = ""
    if t is not None:
        desc = (f"Matbench v0.1 task <b>{esc(t.name)}</b>: predict <b>{esc(t.target)}</b>"
                f"{' (' + esc(t.unit) + ')' if t.unit else ''} from the "
                f"{esc(t.input_type)}. {esc(t.description)}")
    else:
        desc = (f"Your own data (<code>{esc(r.config.get('data'))}</code>): predict "
                f"<b>{esc(r.target_label)}</b> from the {esc(ds.get('input_type'))}.")
    parts.append(f"<p>{desc}</p>")
    facts = [(f"{n:,}", "rows"), (esc(ds.get("task_type", "")), "task type"),
             (esc(ds.get("input_type", "")), "input"),
             (esc(r.preset), "features"),
             (esc(r.primary_model), "primary model (declared before testing)")]
    pmean, pstd = b.mean(r.primary_model)
    facts.append((f"{fmt(pmean)} ± {fmt(pstd)}", f"{pm_} of the primary model"))
    if t is not None and t.mad:
        facts.append((fmt(t.mad), "MAD of the target (a mean predictor's MAE)"))
    parts.append('<div class="keyfacts">' + "".join(
        f"<div><b>{v}</b><span>{k}</span></div>" for v, k in facts) + "</div>")
    md = [f"{n} rows, {ds.get('task_type')} on {ds.get('input_type')} input; target "
          f"{r.target_label}.",
          f"Primary model {r.primary_model}: {pm_} = {fmt(pmean)} ± {fmt(pstd)} (fold mean ± std)."]
    if t is not None:
        lb = task_leaderboard(t.name)
        if len(lb):
            top = lb.head(5)
            rows = [[i + 1, a, m, s] for i, (a, m, s) in
                    enumerate(zip(top["algorithm"], top["mean"], top["std"]))]
            parts.append(f"<h3>Best on the Matbench leaderboard ({esc(metric_label(t.primary_metric))})</h3>"
                         + table(rows, ["rank", "algorithm", "mean", "std"], left=2))
            best = lb.iloc[0]
            worst = lb.iloc[-1]
            parts.append(f"<p>The best published entry reaches {esc(metric_label(t.primary_metric))} "
                         f"{fmt(best['mean'])} ± {fmt(best['std'])} ({esc(best['algorithm'])}); "
                         f"the {len(lb)} entries span {fmt(best['mean'])} to "
                         f"{fmt(worst['mean'])}.</p>")
            md.append(f"Leaderboard best: {best['algorithm']} with {metric_label(t.primary_metric)} "
                      f"{fmt(best['mean'])} ± {fmt(best['std'])} ({len(lb)} entries).")
            b.facts.lb_best = (best["algorithm"], float(best["mean"]), float(best["std"]))
    else:
        parts.append("<p class=note>No public leaderboard applies to your own data; the "
                     "baselines below are the reference.</p>")
    b.add("problem", "".join(parts), md)
