"""``assay compare RUN1 RUN2 ...``: several runs side by side, with paired fold differences.

Differences are paired fold by fold only when the runs tested the same rows in the same folds
(checked row by row); otherwise the page says so and shows unpaired numbers alone.
Paired differences are tested with assay's one paired test
(:func:`assay.evaluation.stats.paired_test`), once in each direction.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from ..store.atomic import atomic_write_text
from . import figures as F
from ..evaluation.metrics import HIGHER_IS_BETTER
from ..evaluation.stats import paired_test
from .evidence import metric_label
from .html import CSS, Raw, data_uri, esc, figure, finding, pm, table
from .run_data import RunData


def _fold_key(r: RunData):
    """The fold of every row id, from the predictions (what was really tested)."""
    p = r.predictions.drop_duplicates("id")[["id", "fold"]]
    return dict(zip(p["id"].astype(str), p["fold"].astype(int)))


def compare_runs(run_dirs: list, metric: str | None = None) -> tuple[str, dict]:
    runs = [RunData(p) for p in run_dirs]
    if len(runs) < 2:
        raise ValueError("compare needs at least two runs")
    types = {r.task_type for r in runs}
    if len(types) > 1:
        raise ValueError(f"runs mix task types {sorted(types)}; compare runs of one kind of task")
    ref_run = runs[0]
    metric = metric or ref_run.primary_metric
    hib = metric in HIGHER_IS_BETTER
    tasks = {r.config.get("task") or r.config.get("data") for r in runs}

    # which runs share the reference's folds?
    # (runs on other data never share folds with the reference, even where row ids coincide)
    ref_folds = _fold_key(ref_run)
    ref_task = ref_run.config.get("task") or ref_run.config.get("data")
    same = {}
    for r in runs:
        same[r.run_id] = ((r.config.get("task") or r.config.get("data")) == ref_task
                          and _fold_key(r) == ref_folds)
    all_same = all(same.values())

    # entries: every (run, model)
    entries = []
    for r in runs:
        t = r.fold_table(metric) if metric in r.scores.columns else None
        for m in r.models:
            if t is None or m not in t.index:
                continue
            v = t.loc[m].to_numpy(float)
            entries.append({"run": r.run_id, "model": m, "features": r.config.get("features"),
                            "split": r.split, "primary": m == r.primary_model,
                            "folds": t.columns.tolist(), "values": v, "mean": float(np.nanmean(v)),
                            "std": float(np.nanstd(v)), "same_folds": same[r.run_id]})
    ref = next(e for e in entries if e["run"] == ref_run.run_id and e["primary"])
    ref_name = f"{ref['run']}:{ref['model']}"

    parts = []
    parts.append(f"<p>{len(runs)} runs on {esc(', '.join(map(str, tasks)))}; metric "
                 f"<b>{esc(metric_label(metric))}</b> ({'higher' if hib else 'lower'} is better). Reference: "
                 f"<b>{esc(ref_name)}</b> (the first run's primary model).</p>")
    if len(tasks) > 1:
        parts.append('<div class="missing"><b>Different data.</b> The runs are on different data '
                     f"({esc(', '.join(map(str, tasks)))}); their scores are not comparable and no "
                     "fold is paired.</div>")
    elif all_same:
        parts.append(finding("All runs tested the same rows in the same folds (checked row by row), "
                             "so fold-by-fold differences are paired."))
    if len(tasks) == 1 and not all_same:
        diff = [rid for rid, ok in same.items() if not ok]
        parts.append('<div class="missing"><b>Folds differ.</b> ' + esc(", ".join(diff)) +
                     " did not test the same rows in the same folds as the reference, so no paired "
                     "differences are computed for them; only their own fold means are shown.</div>")
    rows, hl = [], set()
    for i, e in enumerate(entries):
        if e is ref:
            hl.add(i)
        rows.append([e["run"], e["model"] + (" (primary)" if e["primary"] else ""), e["features"],
                     e["split"], Raw(pm(e["mean"], e["std"])), "yes" if e["same_folds"] else "no"])
    parts.append("<h2>Side by side</h2>" + table(rows, ["run", "model", "features", "split",
                                                         f"{metric_label(metric)} mean ± std", "same folds as reference"],
                                                  left=4, highlight=hl))
    # per-fold
    if all_same:
        folds = ref["folds"]
        rows = [[f"{e['run']}:{e['model']}"] + list(e["values"]) for e in entries]
        parts.append(f"<h2>Per fold ({esc(metric_label(metric))})</h2>" + table(rows, ["entry"] + [f"fold {k}" for k in folds]))
    # paired differences, tested by the package's one paired test in each direction
    diffs, tests, prow = {}, {}, []
    for e in entries:
        if e is ref or not e["same_folds"] or len(e["values"]) != len(ref["values"]):
            continue
        d = e["values"] - ref["values"]
        name = f"{e['run']}:{e['model']}"
        diffs[name] = d
        better = paired_test(e["values"], ref["values"], hib)  # H1: the entry is better
        worse = paired_test(ref["values"], e["values"], hib)  # H1: the entry is worse
        tests[name] = {"better": better, "worse": worse}
        prow.append([name, float(d.mean()), float(d.std()), better["p_ttest"], worse["p_ttest"],
                     f"{better['folds_better']}/{better['n_folds']}",
                     "better" if (d.mean() > 0) == hib and d.mean() != 0 else "worse" if d.mean() != 0 else "same"])
    uris = {}
    if diffs:
        parts.append(f"<h2>Paired fold differences (entry − {esc(ref_name)})</h2>" + table(
            prow, ["entry", f"mean Δ{metric}", "std Δ", "p (entry better)", "p (entry worse)",
                   "folds better", "on average"]))
        uri = data_uri(F.paired_differences(diffs, metric, ref_name))
        uris["paired"] = uri
        parts.append(figure("paired", uri, "Per-fold differences against the reference; a cloud "
                            "entirely on one side of zero is a consistent difference."))
        parts.append("<p class=note>p: one-sided paired t-tests over folds, one for each direction "
                     "(the same test as the run's comparison.json; the smaller of the two is half the "
                     "two-sided p). With 5 folds a paired t-test has little power and its folds share "
                     "training rows, so p-values are optimistic; read the fold counts beside them.</p>")
    sm = {f"{e['run']}:{e['model']}": {metric: {"mean": e["mean"], "std": e["std"]}} for e in entries}
    uri = data_uri(F.model_comparison(sm, metric, list(sm), ref_name, set(), label=metric_label(metric)))
    uris["entries"] = uri
    parts.append(figure("entries", uri, f"{esc(metric_label(metric))} of every entry (fold mean ± std; "
                        f"the axis is zoomed to the values); the reference in red."))
    now = _dt.datetime.now().isoformat(timespec="seconds")
    doc = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>assay compare: {esc(', '.join(r.run_id for r in runs))}</title>
<style>{CSS}</style></head><body><main><header class="top"><div class="sub">assay compare</div>
<h1>{len(runs)} runs compared</h1><div class="sub">{esc(' · '.join(str(r.path) for r in runs))}</div></header>
{''.join(parts)}
<footer>Generated {esc(now)} by assay compare; every number is read or derived from the run folders.</footer>
</main></body></html>"""
    info = {"metric": metric, "reference": ref_name, "same_folds": same, "paired": {k: v.tolist() for k, v in diffs.items()},
            "tests": tests}
    return doc, info


def write_compare(run_dirs: list, out: Path, metric: str | None = None) -> tuple[Path, dict]:
    doc, info = compare_runs(run_dirs, metric)
    out = Path(out)
    atomic_write_text(out, doc)
    return out, info
