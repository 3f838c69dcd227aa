"""``assay slides RUN``: a short self-contained HTML deck reusing the report's figures.

Six slides (problem, data preparation, model choice, training and testing, results against the
leaderboard, conclusions); arrow keys / space / page keys move between them, and printing gives
one slide per page.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..store.atomic import atomic_write_text
from .html import esc, fmt
from .builder import ReportBuilder
from .evidence import mean_std

SLIDE_CSS = """
*{box-sizing:border-box}html,body{margin:0;height:100%;background:#222}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1d1d1f;
 overflow-x:hidden;overflow-y:auto;scroll-snap-type:y mandatory}
.slide{width:100%;height:100vh;scroll-snap-align:start;display:flex;align-items:center;justify-content:center}
.inner{background:#fff;width:min(96vw,170vh);aspect-ratio:16/9;max-height:96vh;padding:3.2vh 4vh;
 display:flex;flex-direction:column;border-radius:6px;overflow:hidden}
h1{font-size:5vh;margin:0 0 1vh}h2{font-size:4.2vh;margin:0 0 1.6vh;border-bottom:.4vh solid #b3261e;padding-bottom:.6vh}
.cols{display:flex;gap:3vh;flex:1;min-height:0}.cols>div{flex:1;min-width:0;display:flex;flex-direction:column;justify-content:center}
ul{font-size:2.5vh;line-height:1.4;margin:0;padding-left:2.4vh}li{margin-bottom:1vh}
figure{margin:0;display:flex;flex-direction:column;min-height:0;flex:1;justify-content:center}
figure img{max-width:100%;max-height:62vh;object-fit:contain}
figcaption{font-size:1.7vh;color:#5a5a5f}
.foot{font-size:1.6vh;color:#777;margin-top:auto}
.big{font-size:6vh;font-weight:700;color:#b3261e}
@media print{@page{size:landscape;margin:0}html,body{background:#fff;overflow:visible}
 .slide{height:auto;page-break-after:always;break-after:page}.inner{width:100%;max-height:none;border-radius:0}}
"""

NAV_JS = """
document.addEventListener('keydown',function(e){var s=[].slice.call(document.querySelectorAll('.slide'));
var y=window.scrollY,h=window.innerHeight,i=Math.round(y/h);
if(['ArrowDown','ArrowRight','PageDown',' '].indexOf(e.key)>=0){i=Math.min(i+1,s.length-1)}
else if(['ArrowUp','ArrowLeft','PageUp'].indexOf(e.key)>=0){i=Math.max(i-1,0)}else{return}
e.preventDefault();s[i].scrollIntoView({behavior:'smooth'});});
"""


def _slide(sid: str, title: str, bullets: list[str], fig=None, n: int = 0, total: int = 0,
           foot: str = "") -> str:
    ul = "<ul>" + "".join(f"<li>{b}</li>" for b in bullets) + "</ul>"
    right = ""
    if fig is not None:
        right = (f'<div><figure data-figure="{esc(fig.id)}"><img src="{fig.uri}" alt="{esc(fig.caption)}">'
                 f"<figcaption>{fig.caption}</figcaption></figure></div>")
    return (f'<section class="slide" id="{sid}" data-slide="{sid}"><div class="inner"><h2>{esc(title)}</h2>'
            f'<div class="cols"><div>{ul}</div>{right}</div>'
            f'<div class="foot">{foot} · {n}/{total}</div></div></section>')


def build_slides(run_dir) -> str:
    b = ReportBuilder(run_dir)
    b.build()
    r = b.run
    F = b.figures
    prim, metric = r.primary_model, r.primary_metric
    pmu, psd = b.mean(prim)
    foot = esc(f"assay · {r.run_id}")
    head = f"{r.target_label}" + (f" — {r.task.name}" if r.task else "")

    def pick(*ids):
        return next((F[i] for i in ids if i in F), None)

    slides = []
    n = r.dataset.get("n_rows")
    a = r.audit or {}
    # 1 problem
    b1 = [f"Predict <b>{esc(r.target_label)}</b> from the {esc(r.dataset.get('input_type'))}: "
          f"{n:,} rows, {esc(r.task_type)}."]
    if b.facts.lb_best:
        alg, mu, sd = b.facts.lb_best
        b1.append(f"Leaderboard best: {esc(alg)}, {esc(metric)} {fmt(mu)} ± {fmt(sd)}.")
    if r.task is not None and r.task.mad:
        b1.append(f"Predicting the mean gives MAE ≈ {fmt(r.task.mad)} (MAD of the target).")
    slides.append(("problem", f"Problem: {head}", b1, pick("audit-target_hist")))
    # 2 data
    b2 = []
    t = a.get("target") or {}
    if not r.is_classification and t.get("count"):
        b2.append(f"Target {fmt(t.get('min'))} to {fmt(t.get('max'))}, median {fmt(t.get('median'))}, "
                  f"skew {fmt(t.get('skew'))}.")
    elif t.get("class_counts"):
        b2.append(f"Classes {esc(t.get('class_counts'))}; minority {fmt(100 * t.get('minority_share', 0))}%.")
    if a.get("outliers"):
        b2.append(f"{a['outliers']['iqr']['count']} target outliers (IQR), kept"
                  + (" unless cleaned" if r.config.get("cleaning") else "") + ".")
    dup = sum(d.get("n_groups", 0) for d in (a.get("duplicates") or {}).values() if isinstance(d, dict))
    if a:
        b2.append(f"{dup} duplicate groups; missing values: "
                  f"{sum(v or 0 for v in (a.get('missing') or {}).values())}.")
    ov = a.get("overlap") or {}
    if ov:
        b2.append(f"{ov.get('mean_chemsys_seen_share', float('nan')):.0%} of test rows have their chemical "
                  f"system in training.")
    f = r.features
    b2.append(f"Features: {esc(f.get('preset'))}, {f.get('n_features')} columns; scaling fitted per fold.")
    slides.append(("data", "Data preparation", b2, pick("audit-target_box", "audit-target_hist")))
    # 3 model choice
    b3 = []
    for m in r.models:
        mu, sd = b.mean(m)
        if np.isfinite(mu):
            b3.append(f"{'<b>' if m == prim else ''}{esc(m)}{'</b>' if m == prim else ''}"
                      f"{' (baseline)' if r.is_baseline(m) else ''}: {fmt(mu)} ± {fmt(sd)}")
    for p in b.paired:
        if p.get("kind") == "control" and p.get("a") == prim:
            ok = p.get("beats")
            b3.append(f"{'Beats' if ok else 'Does <b>not</b> beat'} control {esc(str(p['b']).split('[')[-1].rstrip(']'))}"
                      f" (p = {fmt(p.get('p_ttest'))}, {p.get('wins')}/{p.get('n_folds')} folds)")
    if not b.controls:
        b3.append("Controls: not run")
    slides.append(("model-choice", "Model choice", b3[:7], pick("model-comparison")))
    # 4 training and testing
    tbl = r.fold_table()
    b4 = [f"Split: {esc(r.split)}, {r.n_folds} folds"
          + (" (verified against Matbench)" if r.folds.get("verified_against_official") else "") + "."]
    b4.append("Hyperparameters: " + ("nested search on training folds only." if r.search else
                                     "fixed before the run (no tuning)."))
    if prim in tbl.index:
        v = tbl.loc[prim].to_numpy(float)
        b4.append(f"{esc(prim)} per fold: {fmt(np.nanmin(v))} to {fmt(np.nanmax(v))} {esc(metric)}.")
    for name, e in r.extra_splits.items():
        mu, _ = mean_std(e["summary"].get(prim), metric)
        if mu is not None:
            b4.append(f"Under {esc(name)}: {fmt(mu)} (vs {fmt(pmu)}).")
    lc = b.curves
    if lc and prim in lc and len(lc[prim]["mean"]) >= 2:
        c = lc[prim]
        b4.append(f"Learning curve: {fmt(c['mean'][-2])} → {fmt(c['mean'][-1])} from "
                  f"{int(c['n_train'][-2])} to {int(c['n_train'][-1])} rows.")
    slides.append(("training", "Training and testing", b4, pick("parity", "roc", "confusion", "per-fold")))
    # 5 leaderboard
    if r.task is not None and b.facts.rank:
        rk, nlb = b.facts.rank
        b5 = [f"<b>Rank {rk} of {nlb}</b> on Matbench v0.1 ({esc(r.task.name)})."]
        if b.facts.lb_best:
            alg, mu, _ = b.facts.lb_best
            b5.append(f"Gap to the best ({esc(alg)}): {fmt(abs(pmu - mu))} {esc(metric)}.")
        if r.is_classification:
            b5.append("Leaderboard 'rocauc' = balanced accuracy (hard labels).")
        b5.append("Same official folds: scores directly comparable.")
        slides.append(("leaderboard", "Results against the leaderboard", b5, pick("leaderboard")))
    else:
        slides.append(("leaderboard", "Results against the baselines",
                       ["No public leaderboard for your own data."] + b3[:3], pick("per-fold")))
    # conclusions, generated from the numbers
    concl = [f"<b>{esc(prim)}</b>: {esc(metric)} <span class=big>{fmt(pmu)}</span> ± {fmt(psd)} "
             f"over {r.n_folds} folds."]
    base = [m for m in r.models if r.is_baseline(m) and m != prim and m in r.summary]
    if base:
        bmu = b.mean(base[0])[0]
        if np.isfinite(bmu) and bmu:
            concl.append(f"{abs(pmu - bmu) / abs(bmu):.0%} {'better' if b.better(pmu, bmu) else 'worse'} "
                         f"than the {esc(base[0])} baseline ({fmt(bmu)}).")
    if b.facts.rank:
        rk, n = b.facts.rank
        concl.append(f"Rank {rk} of {n} on the Matbench leaderboard.")
    items = b.facts.checklist
    nos = [i for i in items if i.answer == "no"]
    concl.append(f"Reporting checklist: {sum(i.answer == 'yes' for i in items)} yes, {len(nos)} no"
                 + (f" (open: {esc('; '.join(i.question.rstrip('?') for i in nos[:3]))}"
                    f"{'…' if len(nos) > 3 else ''})" if nos else "") + ".")
    concl.append("Full evidence: report.html; re-run: report.ipynb.")
    slides.append(("conclusions", "Conclusions", concl, None))

    total = len(slides)
    body = "".join(_slide(sid, t, bl, fig, i + 1, total, foot) for i, (sid, t, bl, fig) in enumerate(slides))
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{esc(head)} — slides</title>
<style>{SLIDE_CSS}</style></head><body>{body}<script>{NAV_JS}</script></body></html>"""


def write_slides(run_dir, out: Path | None = None) -> Path:
    doc = build_slides(run_dir)
    out = Path(out) if out else Path(run_dir) / "slides.html"
    atomic_write_text(out, doc)
    return out
