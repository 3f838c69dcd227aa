"""The featurisation contract the workflow depends on (kept for imports that name this module).

The pipeline lives in :mod:`.pipeline`, the preset registry in :mod:`.presets`, the featuriser
base class in :mod:`.base`.
"""
from .base import BatchResult, Featurizer
from .pipeline import FeatureSet, describe_features, featurize
from .presets import _DROP, _PRESETS, PRESETS, default_preset, list_presets, preset_featurizers

__all__ = ["FeatureSet", "Featurizer", "BatchResult", "featurize", "describe_features", "list_presets",
           "default_preset", "preset_featurizers", "PRESETS", "_DROP", "_PRESETS"]
