"""Part of section 2 (data preparation): the most important features, by class or against the
target, with their feature-level outliers and what ``--clip-features`` does about them."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from ...explanation.feature_outliers import outlier_counts, rank_features
from ..figures import _fig, png
from ..html import esc, finding, fmt, table
from ..matrix import extend, matrix, memo, why_missing

if TYPE_CHECKING:
    from ..builder import ReportBuilder

N_FEATURES = 6
Q = 0.01  # the clip quantile discussed (the --clip-features example)
Z = 5.0  # robust z beyond which a value is called a feature-level outlier


def build(b: ReportBuilder) -> None:
    t0 = time.perf_counter()
    m = matrix(b)
    head = "<h3>Feature distributions and feature-level outliers</h3>"
    if m is None:
        extend(b, "data", head + f"<p class=note>The features could not be rebuilt for this report "
               f"({esc(why_missing(b))}), so their distributions are not shown.</p>")
        return
    r = b.run
    top, how, counts, all_counts, fig = memo(b, "feature-distributions", lambda: _compute(b, m))
    parts = [head, f"<p>The {len(top)} most important of the {len(m.labels)} features, ranked by "
             f"{esc(how)}. {'Each panel overlays the two classes (density, so the minority class is visible).' if r.is_classification else 'Each panel plots the target against one feature; the darker a hexagon, the more materials in it.'} "
             f"The axes cover the 0.5–99.5% range of the feature; values beyond it are counted in the "
             f"panel's corner. A Magpie feature (a statistic over the elements of a composition) "
             f"carries the unit of the elemental property it summarises; the others are "
             f"dimensionless.</p>"]
    parts.append(b.fig("feature-distributions", fig, f"The {len(top)} most important features "
                       + ("by class of " if r.is_classification else "against ") + esc(r.target_label)
                       + f" (all {len(m.y)} rows)."))
    rows = [[f, int(c.n_robust_z), c.max_robust_z, int(c.clip_train_values), int(c.clip_test_values)]
            for f, c in zip(top, counts.itertuples())]
    parts.append(table(rows, ["feature", f"rows with |robust z| > {Z:g}", "largest |robust z|",
                              f"training values beyond ({Q:g}, {1 - Q:g}) quantiles, summed over folds",
                              "test values beyond the training fold's quantiles"], left=1))
    parts.append(f"<p>A robust z-score measures the distance from the median in units of "
                 f"1.4826 × MAD, so one extreme value cannot hide itself by inflating the spread. "
                 f"<code>assay run … --clip-features {Q:g}</code> (config "
                 f"<code>clip_features = {Q:g}</code>) winsorises every feature of the non-baseline "
                 f"models at the ({Q:g}, {1 - Q:g}) quantiles of each <i>training</i> fold: the bounds "
                 f"are learnt from the training rows only, test rows beyond them are set to the "
                 f"bound, and the counts of clipped values are written to each fold's result. Trees "
                 f"are barely affected (a split only orders values); linear models, kernels, "
                 f"k-NN and networks are.</p>")
    n_feat_out = int((all_counts["n_robust_z"] > 0).sum())
    md = [f"{n_feat_out} of {len(m.labels)} features have values with |robust z| > {Z:g}; "
          f"top features by {how}: {', '.join(top[:3])}."]
    parts.append(finding(f"{n_feat_out} of {len(m.labels)} features have at least one value with "
                         f"|robust z| &gt; {Z:g}; across all features, clipping at the training "
                         f"folds' ({Q:g}, {1 - Q:g}) quantiles would change "
                         f"{int(all_counts['clip_test_values'].sum()):,} of "
                         f"{int((m.test_fold >= 0).sum()) * len(m.labels):,} test values "
                         f"({all_counts['clip_test_values'].sum() / max((m.test_fold >= 0).sum() * len(m.labels), 1):.1%})."))
    parts.append(_run_clipping(b))
    parts.append(f"<p class=note>Computed for this report in {time.perf_counter() - t0:.1f} s "
                 f"(features rebuilt from the run's cache in {m.seconds:.1f} s).</p>")
    extend(b, "data", "".join(parts), md)


def _compute(b: ReportBuilder, m):
    r = b.run
    ranked, how = rank_features(r.path, m.X, m.y, m.labels, r.task_type)
    top = ranked[:N_FEATURES]
    cols = [m.labels.index(f) for f in top]
    counts = outlier_counts(m.X[:, cols], top, m.test_fold, q=Q, z=Z)
    all_counts = outlier_counts(m.X, m.labels, m.test_fold, q=Q, z=Z)
    return top, how, counts, all_counts, _figure(m, cols, top, r.is_classification, r.target_label, counts)


def _run_clipping(b: ReportBuilder) -> str:
    """What the run's own --clip-features logged, when it used the option."""
    q = b.run.config.get("clip_features")
    if q is None:
        return (f"<p class=note>This run did not clip features (<code>clip_features</code> unset): "
                f"every score above is on the features as computed.</p>")
    logs = []
    for f in sorted((b.run.path / "folds" / b.run.primary_model).glob("fold_*.json")):
        d = b.run.folder.read_json(f) or {}
        if d.get("feature_clipping"):
            logs.append(d["feature_clipping"])
    if not logs:
        return f"<p class=note>This run clipped features at ({fmt(q)}, {fmt(1 - q)}), but its fold files hold no counts.</p>"
    tr, te = sum(x["train_values"] for x in logs), sum(x["test_values"] for x in logs)
    rtr, rte = sum(x["train_rows"] for x in logs), sum(x["test_rows"] for x in logs)
    ntr, nte = sum(x["n_train"] for x in logs), sum(x["n_test"] for x in logs)
    return finding(f"This run clipped features at ({fmt(q)}, {fmt(1 - q)}) inside each training fold "
                   f"of {esc(b.run.primary_model)}: {tr:,} training values ({rtr:,} of {ntr:,} training "
                   f"rows touched) and {te:,} test values ({rte:,} of {nte:,} test rows), summed over "
                   f"{len(logs)} folds.")


def _figure(m, cols, top, is_clf: bool, target_label: str, counts) -> bytes:
    n = len(cols)
    ncols = 3
    nrows = int(np.ceil(n / ncols))
    fig, axes = _fig(11, 3.1 * nrows, ncols=ncols, nrows=nrows, squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    for ax, j, name, c in zip(axes.ravel(), cols, top, counts.itertuples()):
        x = m.X[:, j]
        ok = np.isfinite(x)
        lo, hi = np.nanpercentile(x[ok], [0.5, 99.5]) if ok.any() else (0, 1)
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        out = int((ok & ((x < lo) | (x > hi))).sum())
        if is_clf:
            bins = np.linspace(lo, hi, 40)
            for cls, color in ((0, "#3182bd"), (1, "#d62728")):
                sel = ok & (m.y == cls)
                ax.hist(np.clip(x[sel], lo, hi), bins=bins, density=True, alpha=0.5, color=color,
                        label=f"{target_label.split(' (')[0]} = {cls} ({sel.sum():,})")
            ax.set_ylabel("density")
            ax.legend(fontsize=7, loc="upper right")
        else:
            sel = ok & np.isfinite(m.y) & (x >= lo) & (x <= hi)
            hb = ax.hexbin(x[sel], m.y[sel], gridsize=30, mincnt=1, bins="log", cmap="Blues")
            ax.set_ylabel(target_label)
            fig.colorbar(hb, ax=ax, label="materials (log)")
        ax.set_xlim(lo, hi)
        ax.set_xlabel(_wrap(name + unit(name)), fontsize=8)
        ax.text(0.01, 0.98, f"{out} beyond axis\n{int(c.n_robust_z)} with |z|>{Z:g}", transform=ax.transAxes,
                va="top", ha="left", fontsize=7, color="#444")
    return png(fig)


#: units of the Magpie elemental properties (matminer's magpie tables)
MAGPIE_UNITS = {"MeltingT": "K", "GSvolume_pa": "Å³/atom", "CovalentRadius": "pm", "AtomicWeight": "u",
                "GSbandgap": "eV", "GSmagmom": "μB/atom", "Electronegativity": "Pauling"}


def unit(label: str) -> str:
    """' (unit)' of a Magpie feature whose property has one (a mode/mean/range/avg_dev/min/max
    keeps the property's unit), else ''."""
    if not label.startswith("MagpieData "):
        return ""
    prop = label.rsplit(" ", 1)[-1]
    return f" ({MAGPIE_UNITS[prop]})" if prop in MAGPIE_UNITS else ""


def _wrap(label: str, width: int = 38) -> str:
    return label if len(label) <= width else label[:width].rsplit(" ", 1)[0] + "\n" + label[len(label[:width].rsplit(" ", 1)[0]) + 1:]
