"""Forward (time-ordered) cross-validation: train on the past, test on the next block.

Why: a model is used on materials made *after* the ones it learned from. A random split lets it
interpolate between past and future rows and overstates how well it predicts what comes next
(checklist 5b: the split should mimic the application). Expanding windows: the rows, sorted by
the order column (a year, a date, a batch number), are cut into ``n_splits + 1`` blocks; fold k
trains on blocks 0..k and tests on block k+1. Rows that share an order value always stay in one
block, so a test row is never older than, nor as old as, any of its training rows. The first
block is never tested, so the folds are not a partition of the rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator

#: Columns ``split="forward"`` reads the order from, when the dataset keeps extra columns.
ORDER_COLUMNS = ("order", "year", "date", "time")


class ForwardSplit(BaseCrossValidator):
    """Expanding-window forward splits over ``order`` (one value per row; NaN rows are never
    used). Dates and strings are compared as written (ISO dates sort correctly)."""

    def __init__(self, order=None, n_splits: int = 5):
        self.order = order
        self.n_splits = n_splits

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits

    def _blocks(self, n: int) -> list[np.ndarray]:
        if self.order is None:
            raise ValueError("ForwardSplit needs the order of the rows (order=[...], one value per row)")
        order = pd.Series(np.asarray(self.order, dtype=object))
        if len(order) != n:
            raise ValueError(f"ForwardSplit: order has {len(order)} values for {n} rows")
        known = order.notna().to_numpy()
        values = order[known]
        try:
            values = pd.to_numeric(values)
        except (ValueError, TypeError):
            values = values.astype(str)
        codes = np.full(n, -1)
        uniq, inv = np.unique(values.to_numpy(), return_inverse=True)
        codes[known] = inv
        if len(uniq) < self.n_splits + 1:
            raise ValueError(f"ForwardSplit: {len(uniq)} distinct order values cannot make "
                             f"{self.n_splits} forward folds (need at least {self.n_splits + 1})")
        counts = np.bincount(inv, minlength=len(uniq))
        cum = np.cumsum(counts)
        # block edges at the distinct values closest to equal row counts, never splitting a value
        targets = cum[-1] * np.arange(1, self.n_splits + 1) / (self.n_splits + 1)
        edges = []
        for t in targets:
            e = int(np.searchsorted(cum, t))
            lo = edges[-1] + 1 if edges else 0
            e = min(max(e, lo), len(uniq) - (self.n_splits - len(edges)) - 1)
            edges.append(e)
        bounds = [-1, *edges, len(uniq) - 1]
        return [np.flatnonzero((codes > bounds[i]) & (codes <= bounds[i + 1]))
                for i in range(len(bounds) - 1)]

    def split(self, X, y=None, groups=None):
        n = len(X) if not hasattr(X, "shape") else X.shape[0]
        blocks = self._blocks(n)
        for k in range(self.n_splits):
            yield np.concatenate(blocks[:k + 1]), blocks[k + 1]

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover - split() overrides
        for _, test in self.split(X, y, groups):
            yield test


def forward_from_dataset(ds, n_splits: int, seed: int = 0) -> ForwardSplit:
    """``split="forward"``: the order from the first of ORDER_COLUMNS the dataset keeps."""
    extra = getattr(ds, "extra", None)
    col = next((c for c in ORDER_COLUMNS if extra is not None and c in extra), None)
    if col is None:
        raise KeyError("split 'forward' needs the order of the rows (a year or date column), and "
                       "this dataset keeps no such column; in Python pass "
                       "split=ForwardSplit(order=df['year'], n_splits=5)")
    return ForwardSplit(order=np.asarray(extra[col]), n_splits=n_splits)
