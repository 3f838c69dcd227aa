"""Small estimators the zoo builds its pipelines from (re-exported by ``assay.models.zoo``)."""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, OneToOneFeatureMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data


class ClipToTrainingRange(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Clip each column to the range it had in the training rows.

    A test row with a feature far outside anything seen in training (an element that appears in
    one compound of the dataset, say) otherwise reaches linear models, kernels and networks as a
    z-score in the thousands: one such row in expt_gap gave Ridge an error of 45,000 eV. Trees
    already behave this way. NaNs pass through (a column all-NaN in training is left as it is).
    """

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        self.lo_ = np.nanmin(X, axis=0)
        self.hi_ = np.nanmax(X, axis=0)
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)
        return np.clip(X, self.lo_, self.hi_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class CalibratedSVC(ClassifierMixin, BaseEstimator):
    """SVC with probabilities from Platt scaling on internal 3-fold predictions (what
    ``SVC(probability=True)``, deprecated in scikit-learn 1.9, did), same C/gamma parameters."""

    def __init__(self, C=10.0, gamma="scale", random_state=0):
        self.C = C
        self.gamma = gamma
        self.random_state = random_state

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.model_ = CalibratedClassifierCV(
            SVC(C=self.C, gamma=self.gamma, random_state=self.random_state), method="sigmoid",
            cv=StratifiedKFold(3, shuffle=True, random_state=self.random_state), ensemble=False)
        self.model_.fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        check_is_fitted(self)
        return self.model_.predict(validate_data(self, X, dtype=np.float64, reset=False))

    def predict_proba(self, X):
        check_is_fitted(self)
        return self.model_.predict_proba(validate_data(self, X, dtype=np.float64, reset=False))
