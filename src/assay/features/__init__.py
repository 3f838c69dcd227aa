"""Featurisation: turn compositions or structures into a numeric table.

The single entry point used by the rest of assay is :func:`featurize`; every featuriser
subclasses :class:`Featurizer` (a matminer ``BaseFeaturizer`` with one batch hook, in
:mod:`assay.features.base`). The vectorised featurisers live in :mod:`assay.features.composition`
and :mod:`assay.features.structure`, pooled element embeddings in :mod:`assay.features.embeddings`,
the CHGNet pretrained-potential features (optional extra ``assay[pretrained]``) in
:mod:`assay.features.pretrained`, presets in :mod:`assay.features.presets`, and scikit-learn
preprocessing in :mod:`assay.features.preprocessing`.
"""
from .base import BatchResult, Featurizer
from .pipeline import FeatureSet, describe_features, featurize
from .presets import default_preset, list_presets

__all__ = ["FeatureSet", "Featurizer", "BatchResult", "default_preset", "describe_features", "featurize",
           "list_presets"]
