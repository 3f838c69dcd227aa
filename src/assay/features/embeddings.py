"""Learned element embeddings pooled by composition (mat2vec, MEGNet, Oliynyk, SkipAtom, ...).

The per-element vectors come from the data files shipped inside the ``elementembeddings``
wheel (read directly, offline: importing ``elementembeddings.core`` pulls in UMAP/numba and
takes seconds, and we need only the tables). Among them are the element-embedding layers of
pretrained interatomic potentials (CHGNet, MACE-MP-0, SevenNet, ORB v2). Without the package,
``mat2vec`` and ``megnet16`` fall back to the tables matminer ships (matscholar and MEGNet
element data); the source is part of ``params()`` so the cache never mixes them.

Pooling is one vectorised pass over the (formulas x elements) arrays of
:class:`~assay.features._matrix.CompositionMatrix`: fraction-weighted mean, fraction-weighted
(population) std, min and max per embedding dimension.
"""
from __future__ import annotations

import importlib.util
import json
import os
from functools import lru_cache
from importlib.metadata import version

import numpy as np
import pandas as pd
from pymatgen.core import Element

from ._matrix import (FRACTION_STATS, N_Z, ElementTable, data_source, fraction_pool, row_errors,
                      source_table)
from .composition import VectorFeaturizer

__all__ = ["ElementEmbedding", "EMBEDDINGS", "embedding_table", "embedding_source"]

# name -> (what it is, file in elementembeddings/data/element_representations)
EMBEDDINGS: dict[str, tuple[str, str]] = {
    "mat2vec": ("word2vec of materials-science abstracts (Tshitoyan 2019), 200-d", "mat2vec.csv"),
    "megnet16": ("MEGNet element embedding layer (Chen 2019), 16-d", "megnet16.json"),
    "oliynyk": ("Oliynyk hand-curated element properties (preprocessed), 44-d", "oliynyk_preprocessed.csv"),
    "skipatom": ("SkipAtom, atoms embedded by their bonding neighbours (Antunes 2022), 200-d",
                 "skipatom_20201009_induced.csv"),
    "chgnet": ("CHGNet 0.3.0 potential's element embedding layer, 64-d", "chgnet.csv"),
    "mace_mp0": ("MACE-MP-0 potential's element embedding, 128-d", "mace_mp0.csv"),
    "sevennet": ("SevenNet potential's element embedding, 128-d", "sevennet.csv"),
    "orb_v2": ("ORB v2 potential's element embedding, 256-d", "orb_v2.csv"),
}
# matminer's closest tables, used only when elementembeddings is not installed
_MATMINER_FALLBACK = {"mat2vec": "matscholar_el", "megnet16": "megnet_el"}
INSTALL_HINT = "pip install elementembeddings"


def _package_dir() -> str | None:
    spec = importlib.util.find_spec("elementembeddings")  # locates without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def embedding_source(name: str) -> str:
    """'elementembeddings <version>' or 'matminer' (fallback): what the numbers come from."""
    if name not in EMBEDDINGS:
        raise KeyError(f"unknown element embedding {name!r}; known: {', '.join(EMBEDDINGS)}")
    if _package_dir() is not None:
        return f"elementembeddings {version('elementembeddings')}"
    if name in _MATMINER_FALLBACK:
        return "matminer"
    raise ImportError(f"element embedding {name!r} needs the elementembeddings package: {INSTALL_HINT}")


@lru_cache(maxsize=None)
def embedding_table(name: str) -> ElementTable:
    """(119 x dim) table indexed by Z; elements without a vector carry the reason in ``err``."""
    source = embedding_source(name)
    if source == "matminer":
        props = tuple(data_source(_MATMINER_FALLBACK[name], False).prop_names)
        t = source_table(_MATMINER_FALLBACK[name], False, props)
        err = tuple(f"element {Element.from_Z(z).symbol} has no {name} vector (matminer fallback)" if e else ""
                    for z, e in enumerate(t.err))
        return ElementTable(t.values, err, t.names)
    path = os.path.join(_package_dir(), "data", "element_representations", EMBEDDINGS[name][1])
    if path.endswith(".csv"):
        df = pd.read_csv(path)
        labels = [str(c) for c in df.columns if c != "element"]
        vectors = {str(e): np.asarray(r, dtype=float) for e, r in zip(df["element"], df[labels].to_numpy())}
    else:
        with open(path) as fh:
            vectors = {k: np.asarray(v, dtype=float) for k, v in json.load(fh).items()}
        labels = [str(i) for i in range(len(next(iter(vectors.values()))))]
    values = np.full((N_Z, len(labels)), np.nan)
    values[0] = 0.0
    err = [""] * N_Z
    for z in range(1, N_Z):
        sym = Element.from_Z(z).symbol
        vec = vectors.get(sym)  # keys that are not elements (megnet16's "Null") are never asked for
        if vec is None or vec.shape != (len(labels),) or not np.isfinite(vec).all():
            err[z] = f"element {sym} has no {name} vector"
        else:
            values[z] = vec
    return ElementTable(values, tuple(err), tuple(labels))


class ElementEmbedding(VectorFeaturizer):
    """Composition-pooled element embedding (matminer contract; ``featurize_many`` is vectorised).

    A row with an element the embedding lacks fails as a whole (NaN, reason in ``failed``)
    rather than silently dropping that element from the pool.
    """

    def __init__(self, embedding: str = "mat2vec", stats=FRACTION_STATS):
        if embedding not in EMBEDDINGS:
            raise KeyError(f"unknown element embedding {embedding!r}; known: {', '.join(EMBEDDINGS)}")
        self.embedding = embedding
        self.stats = tuple(stats)
        self.source = embedding_source(embedding)

    def _compute(self, cm):
        table = embedding_table(self.embedding)
        errors = row_errors(cm, table)
        X = fraction_pool(table.values[cm.z], cm.amt, cm.valid, self.stats)
        return X, errors

    def feature_labels(self):
        names = embedding_table(self.embedding).names
        return [f"{self.embedding} {stat} {lab}" for stat in self.stats for lab in names]

    def citations(self):
        if self.source == "matminer":
            return list(getattr(data_source(_MATMINER_FALLBACK[self.embedding], False), "citations", lambda: [])())
        try:  # config is a plain constants module: cheap to import, unlike elementembeddings.core
            from elementembeddings.utils.config import CITATIONS

            cites = list(CITATIONS.get(self.embedding, []))
        except Exception:
            cites = []
        return cites + ["@article{onwuli2023element, title={Element similarity in high-dimensional materials "
                        "representations}, author={Onwuli, Anthony and Hegde, Ashwin V. and Nguyen, Kevin V. T. "
                        "and Butler, Keith T. and Walsh, Aron}, journal={Digital Discovery}, year={2023}}"]

    def implementors(self):
        return ["assay (vectorised pooling)", "elementembeddings (Onwuli, Butler, Walsh)"]
