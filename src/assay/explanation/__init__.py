"""Trust: interpretability, calibrated uncertainty and the applicability domain of a model.

Public API::

    from assay.explanation import (ConformalRegressor, QuantileBoostingRegressor, DomainModel,
                                   explain_run, feature_group, matbench_uncertainty_entries)
"""
from .domain import DomainModel, chemsys_group_splits, learn_threshold
from .groups import aggregate_by_group, feature_group, feature_groups
from .importance import grouped_permutation_importance, permutation_importance_heldout
from .surrogate import fidelity, surrogate_fold
from .trust import explain_run
from .uncertainty import (ConformalRegressor, KNNDifficulty, QuantileBoostingRegressor,
                          add_uncertainty_to_results, calibrated_classifier,
                          classification_calibration_metrics, interval_metrics,
                          matbench_uncertainty_entries, reliability_curve)


__all__ = ["ConformalRegressor", "KNNDifficulty", "QuantileBoostingRegressor", "DomainModel",
           "chemsys_group_splits", "learn_threshold", "aggregate_by_group", "feature_group",
           "feature_groups", "grouped_permutation_importance", "permutation_importance_heldout",
           "fidelity", "surrogate_fold", "add_uncertainty_to_results", "calibrated_classifier",
           "classification_calibration_metrics", "interval_metrics", "matbench_uncertainty_entries",
           "reliability_curve", "explain_run"]
