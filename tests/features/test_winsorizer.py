"""FeatureWinsorizer: scikit-learn contract, bounds from the training rows only, counts."""
import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.utils.estimator_checks import check_estimator

from assay.features.preprocessing import FeatureWinsorizer, winsorizer_log, with_winsorizer


def test_check_estimator():
    failed = [r for r in check_estimator(FeatureWinsorizer(), on_fail=None) if r["status"] == "failed"]
    assert not failed, [(r["check_name"], str(r["exception"])[:200]) for r in failed]


def test_bounds_are_training_quantiles_and_test_is_clipped_at_them():
    rng = np.random.default_rng(0)
    X_tr = rng.standard_normal((200, 3))
    X_tr[0, 0] = 1e6  # one absurd training value
    X_tr[:5, 2] = np.nan
    w = FeatureWinsorizer(quantiles=(0.05, 0.95)).fit(X_tr)
    np.testing.assert_allclose(w.upper_[:2], np.quantile(X_tr[:, :2], 0.95, axis=0))
    np.testing.assert_allclose(w.upper_[2], np.nanquantile(X_tr[:, 2], 0.95))
    assert w.transform(X_tr)[0, 0] == pytest.approx(w.upper_[0])
    assert w.n_clipped_.sum() == sum(int((c < lo).sum() + (c > hi).sum()) for c, lo, hi in
                                     zip(X_tr.T, w.lower_, w.upper_))
    # test rows far outside: clipped at the TRAINING bounds, whatever their own spread
    X_te = 100 + rng.standard_normal((50, 3))
    out = w.transform(X_te)
    np.testing.assert_allclose(out, np.broadcast_to(w.upper_, out.shape))
    assert (w.count_clipped(X_te)[:, 1] == 50).all()
    assert np.isnan(w.transform(np.full((1, 3), np.nan))).all()  # NaN passes through
    with pytest.raises(ValueError, match="quantiles"):
        FeatureWinsorizer(quantiles=(0.9, 0.1)).fit(X_tr)


def test_pipeline_wrap_and_log():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((100, 4)), rng.standard_normal(100)
    est = with_winsorizer(Ridge(), 0.1).fit(X[:80], y[:80])
    assert [n for n, _ in est.steps] == ["winsorize", "model"]
    log = winsorizer_log(est, X[:80], X[80:], ["a", "b", "c", "d"])
    assert log["quantiles"] == [0.1, 0.9] and log["n_train"] == 80 and log["n_test"] == 20
    assert log["train_values"] == sum(v["train"] for v in log["per_feature"].values()) > 0
    assert 0 < log["train_rows"] <= 80 and set(log["per_feature"]) <= {"a", "b", "c", "d"}
    assert winsorizer_log(Ridge().fit(X, y), X, X) is None
