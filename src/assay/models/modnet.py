"""A MODNet-class learner: relevance-redundancy feature selection, then a small network ensemble.

MODNet (De Breuck et al., npj Comput. Mater. 2021) wins on small materials data sets by choosing
a few features that are relevant to the target and not redundant with each other (normalised
mutual information), then fitting a narrow, deep network on them. Here both steps are fitted
inside whatever fold ``fit`` sees: impute, standardise, clip, select
(:class:`~assay.features.preprocessing.RelevanceRedundancySelector`) and an ensemble of
:class:`~assay.models.mlp.TorchMLPRegressor` / ``Classifier`` members, each early-stopped on its
own random 10 % of the training rows. MODNet's own inner search over the number of features is
replaced by a fixed count (``n_features``; searchable), and the mutual information is estimated on
at most ``max_rows`` training rows: the greedy stage needs (selected x candidates) k-NN estimates,
which on all of a few thousand rows took minutes per fit on the project's machine
(benchmarks/design_modnet.py).

The zoo's ``blend`` (LightGBM + extra trees + this network, equal weights) is
:class:`BlendRegressor` / :class:`BlendClassifier`: scikit-learn's voting ensembles plus the input
checks they leave to their members (NaN passes, inf and a single class are refused up front).
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.ensemble import VotingClassifier, VotingRegressor
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ..features.preprocessing import RelevanceRedundancySelector
from .estimators import ClipToTrainingRange
from .mlp import TorchMLPClassifier, TorchMLPRegressor

__all__ = ["MODNetRegressor", "MODNetClassifier", "BlendRegressor", "BlendClassifier"]


class _MODNetBase(BaseEstimator):
    """impute -> standardise -> clip -> NMI selection -> network ensemble, all fitted in ``fit``.

    ``n_features``: features kept (all when there are fewer); ``n_candidates``: the most relevant
    features that enter the greedy redundancy stage; ``max_rows``: training rows the mutual
    information is estimated on. The network parameters are TorchMLP's (MODNet's widths by default).
    """

    _task = "regression"

    def __init__(self, n_features=48, n_candidates=96, max_rows=800, hidden="256-128-64-32", dropout=0.1,
                 lr=1e-3, weight_decay=1e-5, batch_size=128, max_epochs=200, patience=15, val_fraction=0.1,
                 n_ensemble=5, random_state=0, threads=1):
        self.n_features = n_features
        self.n_candidates = n_candidates
        self.max_rows = max_rows
        self.hidden = hidden
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.val_fraction = val_fraction
        self.n_ensemble = n_ensemble
        self.random_state = random_state
        self.threads = threads

    def _pipeline(self) -> Pipeline:
        net_cls = TorchMLPClassifier if self._task == "classification" else TorchMLPRegressor
        net = net_cls(hidden=self.hidden, dropout=self.dropout, lr=self.lr, weight_decay=self.weight_decay,
                      batch_size=self.batch_size, max_epochs=self.max_epochs, patience=self.patience,
                      val_fraction=self.val_fraction, n_ensemble=self.n_ensemble,
                      random_state=self.random_state, threads=self.threads)
        select = RelevanceRedundancySelector(n_features_to_select=self.n_features, task=self._task,
                                             n_candidates=self.n_candidates, random_state=self.random_state,
                                             max_rows=self.max_rows)
        return Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                         ("scale", StandardScaler()), ("clip", ClipToTrainingRange()),
                         ("select", select), ("model", net)])

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite="allow-nan",
                             y_numeric=self._task == "regression")
        self.pipeline_ = self._pipeline().fit(X, y)
        self.support_ = self.pipeline_.named_steps["select"].get_support()
        return self

    def _validated(self, X):
        check_is_fitted(self)
        return validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)

    def predict(self, X):
        X = self._validated(X)
        return self.pipeline_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # median-imputed inside fit
        return tags


class MODNetRegressor(RegressorMixin, _MODNetBase):
    """MODNet-class regressor (the target is standardised inside the networks)."""


class MODNetClassifier(ClassifierMixin, _MODNetBase):
    """MODNet-class classifier: the members' class probabilities averaged."""

    _task = "classification"

    def fit(self, X, y):
        super().fit(X, y)
        self.classes_ = self.pipeline_.classes_
        return self

    def predict_proba(self, X):
        X = self._validated(X)
        return self.pipeline_.predict_proba(X)


def _check_blend_input(X):
    """Refuse inf (NaN is every member's business: LightGBM's native, the others' imputers) with
    scikit-learn's standard ValueError. Only checked: the members get ``X`` as given, so feature
    names and dtypes reach them unchanged."""
    check_array(X, dtype=None, ensure_all_finite="allow-nan")


class _BlendChecks:
    """Input checks shared by both blends, in front of the voting ensemble's own methods."""

    def fit(self, X, y, **fit_params):
        _check_blend_input(X)
        return super().fit(X, y, **fit_params)

    def predict(self, X):
        check_is_fitted(self)
        _check_blend_input(X)
        return super().predict(X)

    def transform(self, X):
        check_is_fitted(self)
        _check_blend_input(X)
        return super().transform(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # every member handles NaN (imputed or native)
        return tags


class BlendRegressor(_BlendChecks, VotingRegressor):
    """Mean of the members' predictions (weights fixed up front: nothing is fitted to choose them)."""


class BlendClassifier(_BlendChecks, VotingClassifier):
    """Soft vote of the members' class probabilities; a single class in ``y`` is refused."""

    def fit(self, X, y, **fit_params):
        classes = np.unique(np.asarray(y)) if y is not None else None  # None: the ensemble's own error
        if classes is not None and classes.size < 2:  # members would disagree on the probability columns
            raise ValueError(f"blend needs at least 2 classes in y to fit; the data contains only one class: "
                             f"{classes.tolist()}")
        return super().fit(X, y, **fit_params)

    @available_if(VotingClassifier._check_voting)
    def predict_proba(self, X):
        check_is_fitted(self)
        _check_blend_input(X)
        return super().predict_proba(X)
