"""The base of assay's vectorised composition featurisers.

Each subclass keeps matminer's contract (it *is* a matminer ``BaseFeaturizer``, through
:class:`~assay.features.base.Featurizer`) and gives the same numbers, but its batch hook parses
the compositions once and computes every row with array operations instead of a Python loop
per row and per element.
"""
from __future__ import annotations

import numpy as np

from ._matrix import CompositionMatrix
from .base import BatchResult, Featurizer, many_result

__all__ = ["VectorFeaturizer", "MultipleVectorFeaturizer", "CHUNK"]

CHUNK = 2048  # rows per block: bounds the (rows x elements x properties) temporaries


class VectorFeaturizer(Featurizer):
    """Base: subclasses implement ``_compute(cm) -> (array, {row: reason})``."""

    input_kind = "composition"

    def _compute(self, cm: CompositionMatrix) -> tuple[np.ndarray, dict[int, str]]:
        raise NotImplementedError

    @property
    def name(self) -> str:
        return type(self).__name__

    def cache_params(self) -> dict:
        """What identifies the output (used as the cache key)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(self).items()
                if not k.startswith("_") and isinstance(v, (int, float, str, bool, tuple, list, type(None)))}

    def featurize_batch(self, items, *, n_jobs: int = 1, threads: int | None = None) -> BatchResult:
        """Every row at once (``n_jobs``/``threads`` unused: the work is a few array operations)."""
        cm = items if isinstance(items, CompositionMatrix) else CompositionMatrix.from_compositions(list(items))
        X, errors = self.featurize_matrix(cm)
        return BatchResult(X, [errors.get(i) for i in range(cm.n)], [])

    def featurize_matrix(self, cm: CompositionMatrix) -> tuple[np.ndarray, dict[int, str]]:
        """Features for every row; failed rows are all-NaN and listed with their reason."""
        width = len(self.feature_labels())
        out = np.full((cm.n, width), np.nan)
        errors: dict[int, str] = {}
        for start in range(0, cm.n, CHUNK):
            sl = slice(start, min(start + CHUNK, cm.n))
            sub = cm.rows(sl)
            sub.errors = {i - start: e for i, e in cm.errors.items() if sl.start <= i < sl.stop}
            with np.errstate(divide="ignore", invalid="ignore"):  # failed rows have zero totals
                X, err = self._compute(sub)
            out[sl] = X
            errors.update({i + start: e for i, e in err.items()})
        if errors:
            out[sorted(errors)] = np.nan
        return out, errors

    def featurize_many_with_errors(self, entries) -> tuple[np.ndarray, dict[int, str]]:
        return self.featurize_matrix(CompositionMatrix.from_compositions(list(entries)))

    def featurize_many(self, entries, ignore_errors=False, return_errors=False, pbar=False):
        """Array version of matminer's featurize_many (raises on the first bad row unless told not to)."""
        X, errors = self.featurize_many_with_errors(entries)
        return many_result(self.name, X, errors, ignore_errors, return_errors)


class MultipleVectorFeaturizer(VectorFeaturizer):
    """Several vectorised featurisers side by side, sharing one parsed CompositionMatrix."""

    def __init__(self, featurizers):
        self.featurizers = list(featurizers)

    def _compute(self, cm):
        parts, errors = [], dict(cm.errors)
        for f in self.featurizers:
            X, err = f._compute(cm)
            parts.append(X)
            for i, e in err.items():
                errors.setdefault(i, f"{f.name}: {e}")
        return np.hstack(parts), errors

    def cache_params(self):
        return {"featurizers": [[f.name, f.params()] for f in self.featurizers]}

    def feature_labels(self):
        return [lab for f in self.featurizers for lab in f.feature_labels()]

    def citations(self):
        return list(dict.fromkeys(c for f in self.featurizers for c in f.citations()))

    def implementors(self):
        return list(dict.fromkeys(c for f in self.featurizers for c in f.implementors()))
