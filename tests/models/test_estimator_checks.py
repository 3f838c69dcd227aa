"""Every estimator assay defines passes scikit-learn's own estimator checks.

The slow ones (torch MLP, LightGBM with thousands of trees, the gated forests) are checked with
small settings: the checks test the contract (validation, fitted-state, cloning, pickling,
invariances), which does not depend on the size of the model.
"""
import importlib.util

import lightgbm as lgb
from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor
from sklearn.linear_model import LinearRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from assay.explanation.uncertainty import ConformalRegressor, QuantileBoostingRegressor
from assay.features.preprocessing import CorrelationFilter, InfToNaN, RelevanceRedundancySelector
from assay.models.delta import DeltaRegressor
from assay.models.gated import ZeroGatedRegressor
from assay.models.zoo import CalibratedSVC, ClipToTrainingRange


def _small_lgbm():
    return lgb.LGBMRegressor(n_estimators=20, min_child_samples=5, random_state=0, n_jobs=1, verbose=-1)


ESTIMATORS = [
    ClipToTrainingRange(),
    CalibratedSVC(),
    ZeroGatedRegressor(classifier=ExtraTreesClassifier(n_estimators=10, random_state=0),
                       regressor=ExtraTreesRegressor(n_estimators=10, random_state=0)),
    DeltaRegressor(model=_small_lgbm()),  # no feature_names: the linear part is an intercept
    ConformalRegressor(LinearRegression(), n_folds=3),
    QuantileBoostingRegressor(),
    InfToNaN(),
    CorrelationFilter(),
    RelevanceRedundancySelector(n_features_to_select=2, n_candidates=4),
]

if importlib.util.find_spec("torch") is not None:
    from assay.models.mlp import TorchMLPClassifier, TorchMLPRegressor

    small = dict(max_epochs=20, n_ensemble=1)
    ESTIMATORS += [TorchMLPRegressor(**small), TorchMLPClassifier(**small)]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
