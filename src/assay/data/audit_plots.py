"""The audit's pictures: target histogram and box plot, input-size histograms."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from .audit_stats import IQR_FACTOR
from .dataset import Dataset


def plots(dataset: Dataset, sizes: dict, out_dir: Path) -> list[str]:
    """PNG files via the Agg canvas directly, so pyplot's global state is never touched."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out_dir.mkdir(parents=True, exist_ok=True)
    label = dataset.target_name + (f" ({dataset.unit})" if dataset.unit else "")
    y = np.asarray(dataset.target, dtype=float)
    y = y[np.isfinite(y)]
    files = []

    def save(fig, name):
        FigureCanvasAgg(fig)
        fig.tight_layout()
        path = out_dir / name
        fig.savefig(path, dpi=110)
        files.append(str(path))

    fig = Figure(figsize=(5, 3.5))
    ax = fig.add_subplot()
    if dataset.is_classification:
        counts = Counter(int(v) for v in y)
        ax.bar([str(c) for c in sorted(counts)], [counts[c] for c in sorted(counts)])
        ax.set_xlabel(label)
    else:
        ax.hist(y, bins=min(50, max(10, int(np.sqrt(len(y))))))
        ax.set_xlabel(label)
    ax.set_ylabel("rows")
    ax.set_title(f"{dataset.name}: target")
    save(fig, "target_hist.png")

    if not dataset.is_classification:
        fig = Figure(figsize=(5, 2.5))
        ax = fig.add_subplot()
        try:
            ax.boxplot(y, orientation="horizontal", whis=IQR_FACTOR)
        except TypeError:  # matplotlib < 3.10
            ax.boxplot(y, vert=False, whis=IQR_FACTOR)
        ax.set_xlabel(label)
        ax.set_yticks([])
        ax.set_title(f"{dataset.name}: target (whiskers at 1.5 IQR)")
        save(fig, "target_box.png")

    names = [k for k, v in sizes.items() if v]
    fig = Figure(figsize=(4 * len(names), 3.2))
    for j, key in enumerate(names):
        ax = fig.add_subplot(1, len(names), j + 1)
        v = np.asarray(sizes[key], dtype=float)
        v = v[np.isfinite(v)]
        if key == "n_elements":
            edges = np.arange(v.min(), v.max() + 2) - 0.5 if len(v) else 10
            ax.hist(v, bins=edges)
        else:
            ax.hist(v, bins=40)
        ax.set_xlabel(key.replace("_", " "))
        ax.set_ylabel("rows")
    save(fig, "input_sizes.png")
    return files

