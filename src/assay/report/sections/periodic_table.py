"""Part of section 8 (outliers worth a look): per element, how often it occurs, the mean target
of its materials and the model's mean out-of-fold error on them, as periodic-table heat maps."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from ...explanation.periodic_table import element_table, grid
from ..figures import _fig, png
from ..html import esc, finding, fmt, table
from ..matrix import matrix, memo, why_missing

if TYPE_CHECKING:
    from ..builder import ReportBuilder

MIN_COUNT = 20  # elements in fewer materials are too rare for a mean error worth ranking
RARE = 5  # elements in fewer materials get no colour in the mean panels


def build(b: ReportBuilder) -> tuple[str, list[str]]:
    t0 = time.perf_counter()
    head = "<h3>Elements: where the data and the errors are</h3>"
    m = matrix(b)
    if m is None:
        return head + f"<p class=note>The inputs could not be reloaded ({esc(why_missing(b))}).</p>", []
    r = b.run
    et = memo(b, "element-table", lambda: element_table(m.inputs, m.y, m.abs_error))
    if et.empty:
        return head + "<p class=note>No input could be read as a composition.</p>", []
    clf = r.is_classification
    tname = r.target_label.split(" (")[0]
    t_label = f"share with {tname} = 1" if clf else f"mean {r.target_label}"
    e_label = ("mean |y − P(class 1)|" if m.proba is not None else "error rate") if clf else (
        f"mean |error|{' (' + r.unit + ')' if r.unit else ''}")
    fig = memo(b, "periodic-table", lambda: _figure(et, [("count", "materials containing the element"), ("mean_target", t_label),
                       ("mean_abs_error", f"out-of-fold {e_label}")]))
    src = "structure's composition" if m.input_type == "structure" else "formula"
    parts = [head, f"<p>Each material counts once for every element of its {src}. Top: how many of "
             f"the {len(m.y):,} materials contain the element; middle: the {esc(t_label)} of those "
             f"materials; bottom: {esc(r.primary_model)}'s {esc(e_label)} on them, from the "
             f"out-of-fold predictions (each material predicted by the model that did not see it). "
             f"Grey: the element does not occur (or, in the two lower maps, occurs in fewer "
             f"than {RARE} materials, too few for a mean). Lanthanides and actinides are on the two rows "
             f"below.</p>", b.fig("periodic-table", fig, f"Element frequency, {esc(t_label)} and "
                                  f"out-of-fold {esc(e_label)} per element ({len(et)} elements)."),]
    common = et[et["count"] >= MIN_COUNT].sort_values("mean_abs_error", ascending=False)
    md = []
    if len(common):
        overall = float(np.nanmean(m.abs_error))
        worst = common.head(8)
        parts.append(f"<p>Elements in at least {MIN_COUNT} materials with the largest mean error "
                     f"(overall mean {fmt(overall)}):</p>" + table(
                         [[e.element, int(e.count), e.fraction, e.mean_target, e.mean_abs_error]
                          for e in worst.itertuples()],
                         ["element", "materials", "share of materials", t_label, e_label]))
        w = worst.iloc[0]
        parts.append(finding(f"Materials with {esc(w.element)} ({int(w['count'])}) have the largest "
                             f"mean error, {fmt(w.mean_abs_error)} against {fmt(overall)} overall."))
        md.append(f"Largest mean error per element: {w.element} ({fmt(w.mean_abs_error)} vs "
                  f"{fmt(overall)} overall, {int(w['count'])} materials).")
    rare = et[et["count"] < RARE]
    if len(rare):
        parts.append(f"<p class=note>{len(rare)} elements occur in fewer than {RARE} materials "
                     f"({esc(', '.join(rare['element'][:20]))}{' …' if len(rare) > 20 else ''}): "
                     f"a new material containing one of them is an extrapolation.</p>")
    if et.attrs.get("unparsed"):
        parts.append(f"<p class=note>{et.attrs['unparsed']} inputs could not be read as compositions "
                     f"and are left out.</p>")
    parts.append(f"<p class=note>Computed in {time.perf_counter() - t0:.1f} s.</p>")
    return "".join(parts), md


def _figure(et, panels) -> bytes:
    from matplotlib import colormaps
    from matplotlib.colors import LogNorm

    fig, axes = _fig(10, 3.9 * len(panels), nrows=len(panels), squeeze=False)
    for ax, (col, label) in zip(axes[:, 0], panels):
        g = grid(et, col)
        if col != "count":  # a mean over fewer than RARE materials is noise: left grey
            g[grid(et, "count") < RARE] = np.nan
        cm = colormaps[{"count": "Blues", "mean_target": "viridis",
                        "mean_abs_error": "magma_r"}[col]].with_extremes(bad="#eeeeee")
        norm = None
        if col == "count":
            norm = LogNorm(vmin=1, vmax=max(float(np.nanmax(g)), 2))
        im = ax.imshow(np.ma.masked_invalid(g), cmap=cm, norm=norm, aspect="equal")
        for e in et.itertuples():
            v = g[e.table_row, e.table_col]  # NaN where greyed (too rare for a mean)
            rgb = im.cmap(im.norm(v))[:3] if np.isfinite(v) else (1, 1, 1)
            light = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 0.5
            ax.text(e.table_col, e.table_row, e.element, ha="center", va="center", fontsize=7,
                    color="black" if light else "white")
        ax.set_xticks(range(18), [str(i) for i in range(1, 19)], fontsize=7)
        ax.set_yticks(list(range(7)) + [8, 9], [str(i) for i in range(1, 8)] + ["La–Lu", "Ac–Lr"], fontsize=7)
        ax.set_xlabel("group", fontsize=8)
        ax.set_ylabel("period", fontsize=8)
        ax.tick_params(length=0)
        for s in ax.spines.values():
            s.set_visible(False)
        fig.colorbar(im, ax=ax, label=label, fraction=0.025, pad=0.01)
    return png(fig)
