import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsRegressor

from assay.explanation import uncertainty as U


def _hetero(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 4))
    sigma = 0.2 + 1.5 * (X[:, 0] > 0)  # known noise: small on the left, large on the right
    y = 2 * X[:, 0] + X[:, 1] + rng.normal(0, sigma)
    return X, y, sigma


@pytest.mark.parametrize("method", ["cv+", "split"])
def test_conformal_coverage_on_known_noise(method):
    X, y, _ = _hetero(800, 0)
    Xt, yt, sig_t = _hetero(3000, 1)
    cr = U.ConformalRegressor(KNeighborsRegressor(15), method=method, alpha=0.1, difficulty=None).fit(X, y)
    assert cr.fit(X, y) is cr
    y_hat, iv = cr.predict(Xt, return_interval=True)
    assert iv.shape == (len(Xt), 2) and np.all(iv[:, 0] <= iv[:, 1])
    m = U.interval_metrics(yt, iv[:, 0], iv[:, 1], y_hat)
    assert 0.87 <= m["coverage"] <= 0.95, m


def test_normalised_conformal_adapts_and_keeps_coverage():
    X, y, _ = _hetero(800, 0)
    Xt, yt, sig_t = _hetero(3000, 1)
    cr = U.ConformalRegressor(KNeighborsRegressor(15), method="cv+", difficulty="knn").fit(X, y)
    lo, hi = cr.predict_interval(Xt)
    cov = np.mean((yt >= lo) & (yt <= hi))
    assert 0.87 <= cov <= 0.95
    w = hi - lo
    # wide where the noise is large, narrow where it is small
    assert np.median(w[sig_t > 1]) > 1.25 * np.median(w[sig_t < 1])
    assert U.spearman(w, np.abs(yt - cr.predict(Xt))) > 0.2


def test_interval_width_matches_known_gaussian_noise():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1500, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(0, 1.0, 1500)
    cr = U.ConformalRegressor(LinearRegression(), method="cv+", difficulty=None).fit(X, y)
    Xt = rng.normal(size=(500, 3))
    lo, hi = cr.predict_interval(Xt)
    assert np.mean(hi - lo) == pytest.approx(2 * 1.645, rel=0.1)
    # other levels from the same fit
    ints = cr.predict_intervals(Xt, [0.05, 0.5])
    assert np.mean(ints[0.05][1] - ints[0.05][0]) == pytest.approx(2 * 1.96, rel=0.1)
    assert np.mean(ints[0.5][1] - ints[0.5][0]) == pytest.approx(2 * 0.674, rel=0.15)


def test_quantile_boosting_conformalized_coverage():
    X, y, _ = _hetero(1000, 0)
    Xt, yt, _ = _hetero(2000, 1)
    qb = U.QuantileBoostingRegressor(alpha=0.1, n_estimators=60).fit(X, y)
    lo, hi = qb.predict_interval(Xt)
    assert 0.86 <= np.mean((yt >= lo) & (yt <= hi)) <= 0.95


def test_matbench_uncertainty_entries_follow_matbench(tmp_path):
    e = U.matbench_uncertainty_entries(["mb-1", "mb-2"], [1.0, 2.0], std=[0.5, 1.0])
    assert e["mb-1"]["ci_lower"] == pytest.approx(1.0 - 1.959964 * 0.5, rel=1e-5)
    assert e["mb-2"]["ci_upper"] == pytest.approx(2.0 + 1.959964, rel=1e-5)
    assert e["mb-1"]["std"] == 0.5
    sym = U.matbench_uncertainty_entries(["a"], [1.0], lower=[0.0], upper=[2.0])
    assert sym["a"]["std"] == pytest.approx(1 / 1.959964, rel=1e-5)
    asym = U.matbench_uncertainty_entries(["a"], [1.0], lower=[0.5], upper=[2.0])
    assert asym["a"]["std"] is None
    with pytest.raises(ValueError):
        U.matbench_uncertainty_entries(["a"], [1.0])

    from assay.evaluation.matbench_format import benchmark_dict, read_results, task_results, write_results

    d = benchmark_dict({"matbench_steels": task_results("matbench_steels", [{"mb-1": 1.0}, {"mb-2": 2.0}],
                                                        [{"mae": 0.1}, {"mae": 0.2}])})
    d2 = U.add_uncertainty_to_results(d, "matbench_steels",
                                      [{"mb-1": e["mb-1"]}, {"mb-2": e["mb-2"]}])
    write_results(tmp_path / "r.json.gz", d2)
    back = read_results(tmp_path / "r.json.gz")  # hash still valid
    assert back["tasks"]["matbench_steels"]["results"]["fold_1"]["uncertainty"]["mb-2"]["std"] == 1.0


def test_calibration_improves_brier_of_miscalibrated_classifier():
    rng = np.random.default_rng(0)
    n = 3000
    z = rng.normal(size=n)
    # many redundant copies of one signal: naive Bayes double-counts them -> over-confident
    X = np.column_stack([z + rng.normal(0, 1.0, n) for _ in range(10)])
    y = (z + rng.normal(0, 1.0, n) > 0).astype(int)
    tr, te = np.arange(2000), np.arange(2000, n)
    raw = GaussianNB().fit(X[tr], y[tr])
    cal = U.calibrated_classifier(GaussianNB(), method="isotonic", cv=3).fit(X[tr], y[tr])
    m_raw = U.classification_calibration_metrics(y[te], U.positive_proba(raw, X[te]))
    m_cal = U.classification_calibration_metrics(y[te], U.positive_proba(cal, X[te]))
    assert m_cal["brier"] <= m_raw["brier"] + 1e-4
    assert m_cal["ece"] < m_raw["ece"]
    assert sum(b["count"] for b in m_raw["reliability"]) == len(te)
