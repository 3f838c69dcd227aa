"""Section 6, the leaderboard: where the primary model would rank on Matbench, with caveats."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...data.leaderboard import rank_against
from .. import figures as F
from ..evidence import metric_label
from ..html import esc, fmt, table

if TYPE_CHECKING:
    from ..builder import ReportBuilder


def build(b: ReportBuilder) -> None:
    r = b.run
    t = r.task
    if t is None:
        b.add("leaderboard", "<p>Not applicable: this run is on your own data, which has no "
              "public leaderboard. The baselines in <a href=\"#model-choice\">Model choice</a> "
              "are the reference.</p>", ["Not applicable (own data)."])
        return
    mu, sd = b.mean(r.primary_model, t.primary_metric)
    name = f"assay {r.primary_model} ({r.preset})"
    lb = rank_against(t.name, name, mu, sd)
    ours = lb[lb["is_ours"]].iloc[0]
    n = len(lb)
    b.facts.rank = (int(ours["rank"]), n)
    parts = [f"<p>With {esc(metric_label(t.primary_metric))} {fmt(mu)} ± {fmt(sd)} on the official folds, "
             f"<b>{esc(name)}</b> would rank <b>{int(ours['rank'])} of {n}</b> on the Matbench v0.1 "
             f"leaderboard for {esc(t.name)}.</p>"]
    hl = {i for i, o in enumerate(lb["is_ours"]) if o}
    parts.append(table([[int(k), a, m, s] for k, a, m, s in
                        zip(lb["rank"], lb["algorithm"], lb["mean"], lb["std"])],
                       ["rank", "algorithm", f"{metric_label(t.primary_metric)} mean", "std"], left=2,
                       highlight=hl))
    parts.append(b.fig("leaderboard", F.leaderboard(lb, metric_label(t.primary_metric)),
                       f"Matbench leaderboard for {esc(t.name)} ({esc(metric_label(t.primary_metric))}, "
                       f"fold mean ± std; the axis is zoomed to the entries, and a Dummy entry far below "
                       f"is an arrow at its edge), this run in red."))
    cav = ["Ranks compare fold means; entries whose means differ by less than their fold "
           "standard deviations are not clearly different.",
           "The leaderboard table shipped with assay is a snapshot of Matbench v0.1; newer "
           "entries may exist."]
    if t.is_classification:
        ba = b.mean(r.primary_model, "roc_auc_true")[0]
        cav.insert(0, "The leaderboard's 'rocauc' is computed from hard labels, so it equals "
                      "balanced accuracy, not the ROC-AUC of probabilities; assay reports both "
                      f"(this run's ROC-AUC of probabilities: {fmt(ba)}).")
    if "perovskite" in t.name:
        cav.append("matbench_perovskites: the structures were re-matched to their entries in "
                   "Matbench's data release; entries made before that re-matching may have "
                   "used differently matched structures.")
    parts.append("<h3>Caveats</h3><ul>" + "".join(f"<li>{esc(c)}</li>" for c in cav) + "</ul>")
    b.add("leaderboard", "".join(parts),
          [f"Rank {int(ours['rank'])} of {n} ({t.primary_metric} {fmt(mu)} ± {fmt(sd)})."] + cav[:1])
