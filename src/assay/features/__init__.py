"""Featurisation: turn compositions or structures into a numeric table.

The single entry point used by the rest of assay is :func:`featurize`; the vectorised
featurisers live in :mod:`assay.features.composition` and :mod:`assay.features.structure`,
pooled element embeddings in :mod:`assay.features.embeddings`, the CHGNet pretrained-potential
features (optional extra ``assay[pretrained]``) in :mod:`assay.features.pretrained`, and
scikit-learn preprocessing in :mod:`assay.features.preprocessing`.
"""
from .api import FeatureSet, default_preset, featurize, list_presets

__all__ = ["FeatureSet", "default_preset", "featurize", "list_presets"]
