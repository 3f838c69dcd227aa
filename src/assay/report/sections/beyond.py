"""Beyond one static table: several sources, time order, active learning and screening — each
shown when it was run (sources.json, a forward split, RUN/learn/, RUN/screen/), never recomputed."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..html import Raw, esc, fmt, table

if TYPE_CHECKING:
    from ..builder import ReportBuilder


def build(b: ReportBuilder) -> None:
    parts, md = [], []
    for piece in (_sources, _time_order, _learn, _screen):
        html, lines = piece(b)
        if html:
            parts.append(html)
            md += lines
    if not parts:
        b.add("beyond", "<p>Not run for this report. With several data files "
              "(<code>assay run a.csv b.csv --target ...</code>) this section shows their overlap, "
              "conflicts and error per source; with <code>--split forward --order-column year</code> "
              "the error against time; after <code>assay learn RUN</code> the active-learning curves; "
              "after <code>assay screen RUN candidates.csv</code> the ranked candidates.</p>",
              ["Not run: several sources, forward split, `assay learn`, `assay screen`."])
        return
    b.add("beyond", "".join(parts), md)


def _sources(b):
    r = b.run
    merge = (r.dataset.get("source") or {}).get("merge")
    if not merge:
        return "", []
    rows = [[" vs ".join(p["sources"]), p["n_shared"], p["mean_difference"], p["mean_abs_difference"],
             p["max_abs_difference"]] for p in merge.get("pairs", [])]
    html = (f"<h3>Several sources</h3><p>{len(merge.get('per_source_rows', {}))} sources "
            f"({', '.join(f'{esc(k)}: {v} rows' for k, v in merge.get('per_source_rows', {}).items())}); "
            f"merge policy <code>{esc(merge['policy'])}</code>: {merge['n_rows_before']} rows before, "
            f"{merge['n_rows_after']} after; {merge.get('n_shared', 0)} materials appear in more than "
            "one source.</p>")
    if rows:
        html += table(rows, ["sources", "shared materials", "mean difference", "mean |difference|",
                             "max |difference|"], left=1)
    per = r.optional_json("sources.json") or {}
    ps = (per.get("per_source") or {}).get(r.primary_model)
    if ps:
        m = per.get("metric", r.primary_metric)
        html += ("<p>Test error of the primary model per source (" + esc(m) + "):</p>" +
                 table([[s, v.get("n"), v.get(m)] for s, v in ps.items()], ["source", "test rows", m]))
    return html, [f"Several sources: policy `{merge['policy']}`, {merge.get('n_shared', 0)} shared materials."]


def _time_order(b):
    r = b.run
    split = str(r.split)
    if not (split.startswith("forward") or split.startswith("ForwardSplit")
            or "ForwardSplit" in split):
        return "", []
    m = r.primary_metric
    ft = r.fold_table(m)
    rows = [[f"block {k + 1}", *(fmt(ft.loc[model, k]) for model in ft.index)] for k in ft.columns]
    html = ("<h3>Error against time</h3><p>Forward split: each test block is later than every "
            "row its model was trained on (expanding windows).</p>" +
            table(rows, ["test block (later ->)", *map(str, ft.index)]))
    extra = r.extra_splits.get("kfold") or r.extra_splits.get("stratified")
    if extra:
        mu = (extra.get("summary") or {}).get(r.primary_model, {}).get(m, {}).get("mean")
        html += f"<p>The same model on a random split: {esc(m)} {fmt(mu)}.</p>"
    return html, [f"Forward split: {esc(m)} per later block in the report."]


def _learn(b):
    r = b.run
    d = r.optional_json("learn/learn.json")
    if not d:
        return "", []
    html = "<h3>Active learning, simulated</h3><ul>" + "".join(
        f"<li>{esc(x)}</li>" for x in d.get("lines", [])) + "</ul>"
    png = r.path / "learn" / "curves.png"
    if png.is_file():
        html += b.fig("learn-curves", png, "Test error and goal materials found per round, each "
                      "strategy against random (spread over repeats).")
    return html, ["Active learning: " + (d.get("lines") or [""])[-1]]


def _screen(b):
    r = b.run
    d = r.optional_json("screen/screen.json")
    if not d:
        return "", []
    top = d.get("top", [])[:10]
    cols = [c for c in ("rank", "formula", "prediction", "score", "domain", "reason") if top and c in top[0]]
    if not cols and top:
        cols = list(top[0])[:6]
    html = (f"<h3>Next experiments (screening)</h3><p>Goal {esc(d.get('goal'))}, acquisition "
            f"{esc(d.get('acquisition'))}: {d.get('n_ranked')} candidates ranked, {d.get('n_refused')} "
            f"refused (not featurisable, listed in screen/refused.csv), {d.get('n_out_of_domain')} "
            "outside the applicability domain.</p>")
    if top:
        html += table([[Raw(esc(x.get(c))) if isinstance(x.get(c), str) else x.get(c) for c in cols]
                       for x in top], cols, left=2)
    png = r.path / "screen" / "pareto.png"
    if png.is_file():
        html += b.fig("screen-pareto", png, "Candidates: prediction against uncertainty; the Pareto "
                      "front marked.")
    return html, [f"Screening: {d.get('n_ranked')} candidates ranked by {d.get('acquisition')}."]
