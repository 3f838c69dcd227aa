"""Featurisation: turn compositions or structures into a numeric table.

The single entry point used by the rest of assay is :func:`featurize`; the vectorised
featurisers live in :mod:`assay.features.composition` and :mod:`assay.features.structure`,
scikit-learn preprocessing in :mod:`assay.features.preprocessing`.
"""
from .api import FeatureSet, default_preset, featurize, list_presets

__all__ = ["FeatureSet", "default_preset", "featurize", "list_presets"]
