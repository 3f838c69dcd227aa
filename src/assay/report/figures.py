"""The report's figures, drawn from a run's own numbers as PNG bytes.

Matplotlib's object API with the Agg canvas is used directly, so pyplot's global state is never
touched (reports can be built in threads, notebooks and tests side by side).
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, roc_auc_score, roc_curve

OURS = "#d62728"
GREY = "#7f7f7f"
DPI = 110


def _fig(w=5.5, h=3.6, ncols=1, nrows=1, **kw):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h))
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, **kw)
    return fig, axes


def png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def model_comparison(summary: dict, metric: str, models: list[str], primary: str,
                     baselines: set[str], controls: dict[str, tuple[float, float]] | None = None,
                     label: str | None = None) -> bytes:
    """Fold mean ± std of every model (and control) for one metric, as horizontal bars."""
    names, means, stds, colors = [], [], [], []
    for m in models:
        s = summary.get(m, {}).get(metric)
        if not s:
            continue
        names.append(m + (" (baseline)" if m in baselines else ""))
        means.append(s["mean"])
        stds.append(s["std"])
        colors.append(OURS if m == primary else ("#9ecae1" if m in baselines else "#3182bd"))
    for name, (mu, sd) in (controls or {}).items():
        names.append(f"{name} (control)")
        means.append(mu)
        stds.append(sd)
        colors.append("#bdbdbd")
    fig, ax = _fig(6.5, 0.5 * len(names) + 1.4)
    far = [("dummy" in n or "scrambled" in n or "shuffled" in n) for n in names]
    _dots(ax, means, stds, colors, names, focus=None if sum(not f for f in far) < 2 else [not f for f in far])
    ax.set_xlabel(f"{label or metric}\nfold mean ± std", fontsize=9)
    return png(fig)


def _dots(ax, means, stds, colors, names, focus=None) -> None:
    """Horizontal mean ± std markers on an axis zoomed to the values: bars from 0 would hide the
    differences that matter (0.86 against 0.88), so no bars. With ``focus`` (a mask) the axis is
    zoomed to those entries and the others (trivial baselines, scrambled targets) are drawn as
    arrows at the edge, labelled with their value."""
    means = np.asarray(means, float)
    stds = np.nan_to_num(np.asarray(stds, float))
    keep = np.ones(len(means), bool) if focus is None else np.asarray(focus, bool)
    _zoom(ax, means[keep], stds[keep], axis="x")
    lo, hi = ax.get_xlim()
    y = np.arange(len(names))
    for i, (mu, sd, c) in enumerate(zip(means, stds, colors)):
        if lo <= mu <= hi:
            ax.errorbar([mu], [i], xerr=[sd], fmt="o", color=c, capsize=4, ms=7)
        else:
            left = mu < lo
            edge = lo + 0.01 * (hi - lo) if left else hi - 0.01 * (hi - lo)
            ax.plot([edge], [i], "<" if left else ">", color=c, ms=9)
            ax.annotate(f"{mu:.4g} (off the axis)", (edge, i), xytext=(8 if left else -8, 0),
                        textcoords="offset points", va="center", ha="left" if left else "right",
                        fontsize=8, color="#444")
    ax.set_xlim(lo, hi)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)


def _zoom(ax, mu, sd, axis="x") -> None:
    lo, hi = np.nanmin(mu - sd), np.nanmax(mu + sd)
    pad = 0.08 * ((hi - lo) or abs(hi) or 1.0)
    (ax.set_xlim if axis == "x" else ax.set_ylim)(lo - pad, hi + pad)


def per_fold(table: pd.DataFrame, metric: str, primary: str) -> bytes:
    """One line per model across folds: are the differences consistent fold by fold?"""
    fig, ax = _fig(5.5, 3.4)
    for model, row in table.iterrows():
        kw = {"color": OURS, "lw": 2.2, "zorder": 3} if model == primary else {"lw": 1.2}
        ax.plot([int(c) for c in row.index], row.to_numpy(float), marker="o", label=model, **kw)
    ax.set_xlabel("test fold")
    ax.set_ylabel(metric)
    ax.set_xticks([int(c) for c in table.columns])
    ax.legend(fontsize=8, frameon=False)
    return png(fig)


def parity(y_true, y_pred, folds, label: str, model: str) -> bytes:
    """Predicted against measured (every row once, as a test row) and the residuals."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    res = y_pred - y_true
    fig, (a1, a2) = _fig(10, 4.2, ncols=2)
    folds = np.asarray(folds)
    for k in np.unique(folds):
        m = folds == k
        a1.scatter(y_true[m], y_pred[m], s=9, alpha=0.6, label=f"fold {k}")
        a2.scatter(y_pred[m], res[m], s=9, alpha=0.6)
    lo, hi = np.nanmin([y_true.min(), y_pred.min()]), np.nanmax([y_true.max(), y_pred.max()])
    pad = 0.03 * (hi - lo or 1)
    a1.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="k", lw=1)
    a1.set_xlim(lo - pad, hi + pad)
    a1.set_ylim(lo - pad, hi + pad)
    a1.set_aspect("equal", adjustable="box")
    a1.set_xlabel(f"measured {label}")
    a1.set_ylabel(f"predicted {label}")
    a1.set_title(f"{model}: parity (test folds)")
    a1.legend(fontsize=7, frameon=False, markerscale=1.5)
    a2.axhline(0, color="k", lw=1)
    a2.set_xlabel(f"predicted {label}")
    a2.set_ylabel("residual (predicted − measured)")
    a2.set_title("residuals")
    return png(fig)


def residual_hist(y_true, y_pred, label: str) -> bytes:
    res = np.asarray(y_pred, float) - np.asarray(y_true, float)
    fig, ax = _fig(5, 3)
    ax.hist(res, bins=min(60, max(10, int(np.sqrt(len(res))))), color="#3182bd")
    ax.axvline(0, color="k", lw=1)
    ax.set_xlabel(f"residual {label}")
    ax.set_ylabel("rows")
    return png(fig)


def roc(y_true, y_proba, folds, model: str) -> bytes:
    y_true, y_proba = np.asarray(y_true, int), np.asarray(y_proba, float)
    fig, ax = _fig(4.8, 4.4)
    folds = np.asarray(folds)
    for k in np.unique(folds):
        m = folds == k
        if len(np.unique(y_true[m])) < 2:
            continue
        fpr, tpr, _ = roc_curve(y_true[m], y_proba[m])
        ax.plot(fpr, tpr, lw=1, alpha=0.7, label=f"fold {k} (AUC {roc_auc_score(y_true[m], y_proba[m]):.3f})")
    ax.plot([0, 1], [0, 1], color=GREY, ls="--", lw=1)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(f"{model}: ROC on test folds")
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    return png(fig)


def confusion(y_true, y_pred, model: str) -> bytes:
    cm = confusion_matrix(np.asarray(y_true, int), np.asarray(y_pred, int), labels=[0, 1])
    fig, ax = _fig(4.2, 3.8)
    ax.imshow(cm, cmap="Blues")
    for i in range(2):
        for j in range(2):
            ax.text(j, i, f"{cm[i, j]}\n({cm[i, j] / max(cm[i].sum(), 1):.1%})", ha="center",
                    va="center", color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xticks([0, 1], ["0", "1"])
    ax.set_yticks([0, 1], ["0", "1"])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"{model}: confusion (all test folds)")
    return png(fig)


def search_history(records: list[dict], model: str, metric: str | None) -> bytes | None:
    """Inner-search objective by trial, one line per outer fold, with the best so far."""
    fig, ax = _fig(5.5, 3.4)
    drawn = False
    for rec in records:
        vals = trial_values(rec)
        if not vals:
            continue
        x = np.arange(1, len(vals) + 1)
        v = np.asarray(vals, float)
        line = ax.plot(x, v, ".", alpha=0.45)[0]
        best = np.fmin.accumulate(v) if search_direction(rec) == "minimize" else np.fmax.accumulate(v)
        ax.plot(x, best, "-", color=line.get_color(), label=f"fold {rec.get('fold')}")
        drawn = True
    if not drawn:
        return None
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("trial")
    ax.set_ylabel(metric or "inner CV objective")
    ax.set_title(f"{model}: nested search history (inner CV)")
    ax.legend(fontsize=7, frameon=False)
    return png(fig)


def trial_values(rec: dict) -> list[float]:
    trials = rec.get("trials") or rec.get("history") or []
    vals = []
    for t in trials:
        if isinstance(t, dict):
            v = t.get("value", t.get("score", t.get("objective")))
        else:
            v = t
        try:
            vals.append(float(v))
        except (TypeError, ValueError):
            continue
    return vals


def search_direction(rec: dict) -> str:
    d = str(rec.get("direction", "")).lower()
    if d in ("maximize", "minimize"):
        return d
    return "maximize" if rec.get("greater_is_better") or rec.get("higher_is_better") else "minimize"


def learning_curve(curves: dict[str, dict], metric: str, unit_label: str) -> bytes:
    """``curves``: model -> {"n_train", "mean" (test folds), "std" (optional), "train" (optional)}:
    the test-fold score solid, the training score dashed (a gap between them is variance)."""
    fig, ax = _fig(5.5, 3.6)
    for model, c in curves.items():
        n = np.asarray(c["n_train"], float)
        mu = np.asarray(c["mean"], float)
        line = ax.plot(n, mu, marker="o", label=f"{model}: test folds")[0]
        if c.get("std") is not None:
            sd = np.asarray([np.nan if v is None else v for v in c["std"]], float)
            ax.fill_between(n, mu - sd, mu + sd, alpha=0.2, color=line.get_color())
        if c.get("train") is not None:
            ax.plot(n, np.asarray(c["train"], float), "--", marker=".", color=line.get_color(),
                    label=f"{model}: training rows")
    ax.set_xscale("log")
    ax.set_xlabel("training rows")
    ax.set_ylabel(metric)
    ax.set_title("learning curve (mean ± std over the test folds)")
    ax.legend(fontsize=8, frameon=False)
    return png(fig)


def split_comparison(rows: list[tuple[str, str, float, float]], metric: str) -> bytes:
    """rows: (model, split, mean, std) -> grouped bars, one group per model."""
    models = list(dict.fromkeys(r[0] for r in rows))
    splits = list(dict.fromkeys(r[1] for r in rows))
    fig, ax = _fig(6, 3.4)
    w = 0.8 / max(len(splits), 1)
    allm, alls = [], []
    for j, s in enumerate(splits):
        xs, mus, sds = [], [], []
        for i, m in enumerate(models):
            for r in rows:
                if r[0] == m and r[1] == s:
                    xs.append(i + j * w)
                    mus.append(r[2])
                    sds.append(r[3])
        ax.errorbar(xs, mus, yerr=sds, fmt="o", capsize=4, ms=7, label=s)
        allm += mus
        alls += sds
    ax.set_xticks(np.arange(len(models)) + w * (len(splits) - 1) / 2, models)
    ax.set_ylabel(f"{metric} (fold mean ± std)")
    _zoom(ax, np.asarray(allm, float), np.nan_to_num(np.asarray(alls, float)), axis="y")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    return png(fig)


def leaderboard(table: pd.DataFrame, metric: str, top: int = 20) -> bytes:
    """The leaderboard with our entry highlighted (rows ordered best first)."""
    t = table.copy()
    if len(t) > top:
        ours = t[t["is_ours"]]
        t = pd.concat([t.head(top - 1), ours]).drop_duplicates()
    fig, ax = _fig(6.5, 0.32 * len(t) + 1.2)
    colors = [OURS if o else "#3182bd" for o in t["is_ours"]]
    far = ["dummy" in str(a).lower() for a in t["algorithm"]]
    _dots(ax, t["mean"].to_numpy(float), t["std"].fillna(0).to_numpy(float), colors,
          [f"{r} {a}" for r, a in zip(t["rank"], t["algorithm"])],
          focus=None if sum(not f for f in far) < 2 else [not f for f in far])
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel(f"{metric}\nfold mean ± std", fontsize=9)
    return png(fig)


def paired_differences(diffs: dict[str, np.ndarray], metric: str, reference: str) -> bytes:
    """Per-fold differences of each entry against the reference, one row of points each."""
    fig, ax = _fig(6.5, 0.45 * len(diffs) + 1.4)
    for i, (name, d) in enumerate(diffs.items()):
        d = np.asarray(d, float)
        ax.scatter(d, np.full(len(d), i), s=18, color="#3182bd", zorder=3)
        ax.errorbar([d.mean()], [i], xerr=[d.std()], fmt="D", color=OURS, capsize=3, zorder=4)
    ax.axvline(0, color="k", lw=1)
    ax.set_yticks(range(len(diffs)), list(diffs))
    ax.invert_yaxis()
    ax.set_xlabel(f"{metric}: entry − {reference} (per fold; ◆ mean ± std)")
    return png(fig)


def generic_bar(labels: list[str], values: list[float], xlabel: str, title: str = "") -> bytes:
    fig, ax = _fig(6, 0.3 * len(labels) + 1.2)
    y = np.arange(len(labels))
    ax.barh(y, values, color="#3182bd")
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    return png(fig)


def threshold_curve(y_true, y_proba, folds, chosen: dict[int, float], model: str) -> bytes:
    """Balanced accuracy on each test fold against the decision threshold, with 0.5 and the
    threshold each fold chose on its own training rows (the test rows took no part in the choice)."""
    y, p, folds = np.asarray(y_true, int), np.asarray(y_proba, float), np.asarray(folds)
    grid = np.linspace(0.02, 0.98, 49)
    fig, ax = _fig(7.6, 3.8)
    curves, lo = [], 1.0
    for k in np.unique(folds):
        m = folds == k
        if len(np.unique(y[m])) < 2:
            continue
        ba = [balanced_accuracy_score(y[m], (p[m] >= t).astype(int)) for t in grid]
        curves.append(ba)
        line = ax.plot(grid, ba, lw=1, alpha=0.55, label=f"fold {k}")[0]
        if int(k) in chosen:
            t = chosen[int(k)]
            v = balanced_accuracy_score(y[m], (p[m] >= t).astype(int))
            ax.plot([t], [v], "o", color=line.get_color(), ms=7, mec="k", zorder=4)
            lo = min(lo, v)
    if curves:
        ax.plot(grid, np.mean(curves, axis=0), color="k", lw=2, label="mean over test folds")
    ax.axvline(0.5, color=GREY, ls="--", lw=1.2)
    ax.text(0.505, 0.02, "0.5", transform=ax.get_xaxis_transform(), color=GREY, fontsize=8)
    if chosen:
        ax.plot([], [], "o", color="w", mec="k", label="threshold chosen on training rows")
    if curves:
        ax.set_ylim(max(0.0, min(lo, float(np.min(curves))) - 0.02), 1.0)
    ax.set_xlabel("decision threshold on P(class 1)")
    ax.set_ylabel("balanced accuracy (test fold)")
    ax.set_title(f"{model}: balanced accuracy vs threshold", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return png(fig)
