"""Part of section 8 (outliers worth a look): a map of the materials' feature space, coloured by
the target, by the test fold each material fell in, and by the model's out-of-fold error."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from ...explanation.chemical_space import error_by_remoteness, pca_map
from ..figures import _fig, png
from ..html import esc, finding, fmt
from ..matrix import matrix, memo, why_missing

if TYPE_CHECKING:
    from ..builder import ReportBuilder


def build(b: ReportBuilder) -> tuple[str, list[str]]:
    """(html, findings) of the chemical-space subsection."""
    t0 = time.perf_counter()
    head = "<h3>Chemical-space map</h3>"
    m = matrix(b)
    if m is None:
        return head + f"<p class=note>The features could not be rebuilt ({esc(why_missing(b))}).</p>", []
    r = b.run
    err_label = "|y − P(class 1)|" if r.is_classification and m.proba is not None else (
        "misclassified" if r.is_classification else f"|error| {('(' + r.unit + ')') if r.unit else ''}")
    pm, fig, rem = memo(b, "chemical-space", lambda: _compute(b, m, err_label))
    if pm is None:
        return head + f"<p class=note>No map: {esc(fig)}.</p>", []
    ev = pm["explained"]
    parts = [head, f"<p>Every material placed by the first two principal components of its "
             f"{pm['n_features']} standardised features (each feature centred and divided by its "
             f"standard deviation, so the axes have no unit; together they show "
             f"{sum(ev):.0%} of the variance). The map is fitted on all rows for display only: "
             f"nothing on it feeds a score. Left: the target; middle: the official test fold of "
             f"each material (a random split scatters the folds evenly; a cluster or "
             f"chemical-system split would show them as islands); right: the model's out-of-fold "
             f"error, where a region of large errors is a kind of material the model has not "
             f"learnt.</p>"]
    parts.append(b.fig("chemical-space", fig, f"PCA map of the {len(m.y):,} materials, coloured by "
                       f"{esc(r.target_label)}, by test fold and by the out-of-fold {esc(err_label)} of "
                       f"{esc(r.primary_model)}."))
    md = []
    if rem:
        ratio = rem["far"] / rem["near"] if rem["near"] else float("nan")
        parts.append(finding(f"The {rem['share']:.0%} of materials farthest from the centre of the "
                             f"feature space have a mean out-of-fold {esc(err_label)} of {fmt(rem['far'])}, "
                             f"against {fmt(rem['near'])} for the rest ({ratio:.2f}×)."))
        md.append(f"Materials at the edge of feature space (farthest {rem['share']:.0%}) have "
                  f"{ratio:.2f}× the mean error of the rest.")
    parts.append("<p class=note>UMAP (umap-learn) draws tighter clusters but takes minutes on the "
                 "first call (numba compiles it), so the report keeps to PCA; "
                 "<code>assay.explanation.chemical_space.umap_map(X)</code> draws it in a notebook. "
                 f"This map took {time.perf_counter() - t0:.1f} s.</p>")
    return "".join(parts), md


def _compute(b: ReportBuilder, m, err_label: str):
    """(PCA map, figure, error by remoteness), or (None, why, None)."""
    try:
        pm = pca_map(m.X, seed=int(b.run.config.get("seed", 0)))
    except ValueError as exc:
        return None, str(exc), None
    r = b.run
    return pm, _figure(pm, m, r.target_label, r.is_classification, err_label), \
        error_by_remoteness(m.X, m.abs_error)


def _figure(pm, m, target_label, is_clf, err_label) -> bytes:
    xy = pm["coords"]
    fig, axes = _fig(13, 4.2, ncols=3)
    ev = pm["explained"]
    order = np.argsort(np.nan_to_num(m.abs_error, nan=-1))  # large errors drawn last, on top
    kw = dict(s=5, linewidths=0, rasterized=True)
    ax = axes[0]
    if is_clf:
        for cls, color in ((0, "#3182bd"), (1, "#d62728")):
            sel = m.y == cls
            ax.scatter(xy[sel, 0], xy[sel, 1], color=color, alpha=0.5,
                       label=f"{target_label.split(' (')[0]} = {cls}", **kw)
        ax.legend(fontsize=8, markerscale=3)
    else:
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=m.y, cmap="viridis", **kw)
        fig.colorbar(sc, ax=ax, label=target_label)
    ax.set_title("target", fontsize=10)
    ax = axes[1]
    folds = np.unique(m.test_fold)
    for k in folds:
        sel = m.test_fold == k
        ax.scatter(xy[sel, 0], xy[sel, 1], alpha=0.6, label=f"fold {k}" if k >= 0 else "never tested", **kw)
    ax.legend(fontsize=7, markerscale=3, ncol=2)
    ax.set_title("test fold", fontsize=10)
    ax = axes[2]
    e = m.abs_error[order]
    vmax = np.nanpercentile(e, 99) if np.isfinite(e).any() else 1
    sc = ax.scatter(xy[order, 0], xy[order, 1], c=e, cmap="magma_r", vmin=0, vmax=vmax or 1, **kw)
    fig.colorbar(sc, ax=ax, label=f"out-of-fold {err_label}")
    ax.set_title("model error", fontsize=10)
    for ax in axes:
        ax.set_xlabel(f"PC1 ({ev[0]:.0%} of variance)")
        ax.set_ylabel(f"PC2 ({ev[1]:.0%} of variance)")
    return png(fig)
