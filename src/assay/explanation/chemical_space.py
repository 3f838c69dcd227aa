"""A two-dimensional map of the materials' feature space, to see where the data lie, where each
test fold sits and where the model errs.

The map is descriptive only: PCA (and UMAP, when installed and the data are small enough to stay
quick) is fitted on every row's standardised features, so nothing here feeds a score.
"""
from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

#: UMAP only up to this many rows (its first call compiles with numba; a report must stay quick).
UMAP_MAX_ROWS = 3000


def standardise(X) -> np.ndarray:
    """Median-imputed, z-scored columns; constant and all-NaN columns dropped (no direction)."""
    X = np.asarray(X, dtype=float)
    X = np.where(np.isfinite(X), X, np.nan)
    keep = ~np.isnan(X).all(axis=0)
    X = X[:, keep]
    med = np.nanmedian(X, axis=0)
    X = np.where(np.isnan(X), med, X)
    sd = X.std(axis=0)
    X = X[:, sd > 0]
    return (X - X.mean(axis=0)) / sd[sd > 0]


def pca_map(X, seed: int = 0) -> dict:
    """First two principal components of the standardised features.

    Returns {"coords": (n, 2), "explained": fraction of variance of each axis, "n_features"}.
    """
    Z = standardise(X)
    if Z.shape[1] < 2 or len(Z) < 3:
        raise ValueError(f"a map needs at least 3 rows and 2 varying features, not {Z.shape}")
    pca = PCA(n_components=2, svd_solver="randomized" if min(Z.shape) > 50 else "full",
              random_state=seed).fit(Z)
    return {"coords": pca.transform(Z), "explained": pca.explained_variance_ratio_.tolist(),
            "n_features": int(Z.shape[1]), "method": "PCA"}


def umap_map(X, seed: int = 0, max_rows: int = UMAP_MAX_ROWS) -> dict | None:
    """UMAP of the standardised features (on its first 50 PCA components), or None when
    umap-learn is not installed or there are more than ``max_rows`` rows."""
    if len(X) > max_rows or len(X) < 10:
        return None
    try:
        import umap  # heavy, optional: imported only here
    except ImportError:
        return None
    Z = standardise(X)
    Z = PCA(n_components=min(50, *Z.shape), random_state=seed).fit_transform(Z)
    emb = umap.UMAP(n_neighbors=15, min_dist=0.1, random_state=seed, n_jobs=1).fit_transform(Z)
    return {"coords": np.asarray(emb), "explained": None, "n_features": int(Z.shape[1]), "method": "UMAP"}


def error_by_remoteness(X, abs_error, share: float = 0.1) -> dict | None:
    """Mean error of the ``share`` of rows farthest from the centre of the standardised feature
    space, against the rest: do the unusual materials carry the errors?"""
    err = np.asarray(abs_error, dtype=float)
    Z = standardise(X)
    d = np.sqrt((Z ** 2).sum(axis=1))
    ok = np.isfinite(err)
    if ok.sum() < 20:
        return None
    cut = np.quantile(d[ok], 1 - share)
    far = ok & (d > cut)
    near = ok & ~far
    if not far.any() or not near.any():
        return None
    return {"share": share, "far": float(err[far].mean()), "near": float(err[near].mean()),
            "n_far": int(far.sum())}
