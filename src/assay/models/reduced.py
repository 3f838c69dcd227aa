"""A learner behind a feature reducer, both fitted on the training rows only, that knows the labels.

Why not a plain Pipeline: the reducer picks its blocks by column label (``BlockPCA``'s
prefixes) and the learner may too (``DeltaRegressor``'s base columns). assay's experiment hands
``feature_names`` to the top-level estimator only; this wrapper passes them to the reducer and
passes the reducer's output labels on to the learner.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.linear_model import Ridge
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from ..features.reduce import LAYER_PREFIXES, BlockPCA

__all__ = ["ReducedModel", "BlockPCA", "LAYER_PREFIXES"]


def _model_has(attr):
    return lambda self: hasattr(self.model_ if hasattr(self, "model_") else self.model, attr)


class ReducedModel(MetaEstimatorMixin, BaseEstimator):
    """``model`` fitted on ``reducer.fit_transform(X)``; regressor or classifier as ``model`` is."""

    def __init__(self, reducer=None, model=None, feature_names=None):
        self.reducer = reducer
        self.model = model
        self.feature_names = feature_names

    def _reducer(self):
        return BlockPCA() if self.reducer is None else self.reducer

    def _model(self):
        return Ridge() if self.model is None else self.model

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite=self._finite(), multi_output=True,
                             y_numeric=get_tags(self._model()).estimator_type == "regressor")
        names = self.feature_names if self.feature_names is not None else getattr(self, "feature_names_in_", None)
        red = clone(self._reducer())
        if names is not None and "feature_names" in red.get_params(deep=False):
            red.set_params(feature_names=[str(n) for n in names])
        self.reducer_ = red.fit(X, y)
        Xr = self.reducer_.transform(X)
        model = clone(self._model())
        if names is not None and "feature_names" in model.get_params(deep=False):
            model.set_params(feature_names=[str(n) for n in self.reducer_.get_feature_names_out()])
        self.model_ = model.fit(Xr, y)
        if hasattr(self.model_, "classes_"):
            self.classes_ = self.model_.classes_
        return self

    def _reduced(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite=self._finite(), reset=False)
        return self.reducer_.transform(X)

    def _finite(self):
        return "allow-nan" if get_tags(self).input_tags.allow_nan else True

    def predict(self, X):
        Xr = self._reduced(X)
        return self.model_.predict(Xr)

    @available_if(_model_has("predict_proba"))
    def predict_proba(self, X):
        Xr = self._reduced(X)
        return self.model_.predict_proba(Xr)

    @available_if(_model_has("decision_function"))
    def decision_function(self, X):
        Xr = self._reduced(X)
        return self.model_.decision_function(Xr)

    def score(self, X, y, sample_weight=None):
        Xr = self._reduced(X)
        return self.model_.score(Xr, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self._model())
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.target_tags = inner.target_tags
        tags.input_tags.allow_nan = get_tags(self._reducer()).input_tags.allow_nan and inner.input_tags.allow_nan
        return tags
