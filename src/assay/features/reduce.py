"""Embedding blocks reduced to their first principal components, fitted inside each training fold.

Why: a potential's hidden layers (:mod:`assay.features.potential_layers`) are hundreds to
thousands of correlated continuous columns. Pasted raw into gradient boosting they cost minutes
per fit (phonons: 32 s for 411 columns, 42 min for 2,560) and did not help (design folds). A few
principal components per block keep most of their variance at the cost of a handful of columns,
and the hand-made features beside them pass through untouched.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

__all__ = ["BlockPCA", "LAYER_PREFIXES"]

#: The label prefixes of the potential-layer featurisers: one block each.
LAYER_PREFIXES = ("chgnet-layers", "sevennet-layers")


class BlockPCA(TransformerMixin, BaseEstimator):
    """Replace each block of columns by its first ``n_components`` principal components.

    A block is every column whose label starts with one of ``prefixes`` (followed by a space);
    ``prefixes=None`` makes all columns one block. Labels come from ``feature_names`` (what
    assay's experiment passes to models) or from a DataFrame's columns. Within a block, columns
    are standardised (``scale``) and NaNs filled with the training mean before the projection; a
    row with no value at all in a block (a failed featurisation) gets NaN components, which tree
    learners take as missing. Output: the other columns in their order, then each block's
    components (``min(n_components, rows, columns)`` of them).
    """

    def __init__(self, prefixes=None, n_components: int = 16, scale: bool = True, feature_names=None):
        self.prefixes = prefixes
        self.n_components = n_components
        self.scale = scale
        self.feature_names = feature_names

    def _names(self, n_features):
        if self.feature_names is not None:
            names = [str(c) for c in self.feature_names]
            if len(names) != n_features:
                raise ValueError(f"BlockPCA got {len(names)} feature_names for {n_features} columns")
            return names
        if hasattr(self, "feature_names_in_"):
            return [str(c) for c in self.feature_names_in_]
        return None

    def _blocks(self, names, n_features) -> list[tuple[str, np.ndarray]]:
        if self.prefixes is None:
            return [("pca", np.arange(n_features))]
        prefixes = [self.prefixes] if isinstance(self.prefixes, str) else list(self.prefixes)
        if names is None:
            raise ValueError("BlockPCA(prefixes=...) needs column labels: pass feature_names or a DataFrame "
                             "(or prefixes=None to reduce all columns together)")
        out = []
        for p in prefixes:
            cols = np.array([i for i, n in enumerate(names) if n.startswith(p + " ")], dtype=int)
            if len(cols):
                out.append((p, cols))
        return out

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        if not (isinstance(self.n_components, (int, np.integer)) and self.n_components >= 1):
            raise ValueError(f"n_components must be a positive integer, got {self.n_components!r}")
        names = self._names(X.shape[1])
        self.blocks_ = self._blocks(names, X.shape[1])
        in_block = np.zeros(X.shape[1], bool)
        self.models_ = []
        for _, cols in self.blocks_:
            in_block[cols] = True
            B = X[:, cols]
            seen = ~np.isnan(B).all(axis=1)
            Bs = B[seen] if seen.any() else np.zeros((1, len(cols)))
            with np.errstate(all="ignore"):
                mean = np.nan_to_num(np.nanmean(Bs, axis=0)) if seen.any() else np.zeros(len(cols))
                std = np.nan_to_num(np.nanstd(Bs, axis=0)) if self.scale and seen.any() else np.ones(len(cols))
            std[std < 1e-12] = 1.0
            Z = np.where(np.isnan(Bs), 0.0, (Bs - mean) / std)
            k = int(min(self.n_components, Z.shape[0], Z.shape[1]))
            pca = PCA(n_components=k, svd_solver="full").fit(Z)
            self.models_.append((mean, std, pca))
        self.passthrough_ = np.flatnonzero(~in_block)
        self.n_features_out_ = len(self.passthrough_) + sum(m[2].n_components_ for m in self.models_)
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)
        parts = [X[:, self.passthrough_]]
        for (_, cols), (mean, std, pca) in zip(self.blocks_, self.models_):
            B = X[:, cols]
            empty = np.isnan(B).all(axis=1)
            Z = (B - mean) / std
            T = pca.transform(np.where(np.isnan(Z), 0.0, Z))
            T[empty] = np.nan
            parts.append(T)
        return np.hstack(parts)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        names = self._names(self.n_features_in_)
        if names is None:
            names = list(_check_feature_names_in(self, input_features))
        out = [names[i] for i in self.passthrough_]
        for (p, _), (_, _, pca) in zip(self.blocks_, self.models_):
            out += [f"{p} pc{j + 1}" for j in range(pca.n_components_)]
        return np.asarray(out, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
