"""Prove that assay's own estimators predict bit-identically before and after a refactor.

    git archive b6c74a4 src | tar -x -C /tmp/assay_old
    PYTHONPATH=/tmp/assay_old/src python benchmarks/bit_identity_estimators.py dump /tmp/old.npz
    PYTHONPATH=src               python benchmarks/bit_identity_estimators.py dump /tmp/new.npz
    python benchmarks/bit_identity_estimators.py compare /tmp/old.npz /tmp/new.npz

Fits the zoo's own estimators (full default settings) and the uncertainty estimators on the
same small synthetic data (300 rows, 5% NaN, half exact zeros for ``gated``) and saves every
prediction; ``compare`` asserts they are equal to the bit.
"""
import sys

import numpy as np


def _data(seed=0, n=300, p=8):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X[:, 0] * 2 + np.sin(X[:, 1]) + 0.1 * rng.standard_normal(n)
    X[rng.random((n, p)) < 0.05] = np.nan
    return X, y


def dump(path):
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.neighbors import KNeighborsRegressor

    from assay.explanation import uncertainty as U
    from assay.models.zoo import ClipToTrainingRange, make_model

    X, y = _data()
    tr, te = slice(0, 240), slice(240, None)
    yc = (y > 0).astype(int)
    y3 = np.digitize(y, [-1.0, 1.0])  # three classes
    yz = np.where(X[:, 2] > 0, 0.0, np.abs(y))  # about half exact zeros
    out = {}
    Xf = np.nan_to_num(X)
    out["clip"] = ClipToTrainingRange().fit(Xf[tr]).transform(Xf[te] * 3)
    for name in ("ridge", "svm", "knn", "linear"):
        out[f"{name}_reg"] = make_model(name, "regression", seed=1).fit(X[tr], y[tr]).predict(X[te])
    for name, yy in (("svm", yc), ("svm3", y3)):
        m = make_model("svm", "classification", seed=1).fit(X[tr], yy[tr])
        out[f"{name}_clf"], out[f"{name}_proba"] = m.predict(X[te]), m.predict_proba(X[te])
    g = make_model("gated", "regression", seed=2).fit(X[tr], yz[tr])
    out["gated"], out["gated_p"] = g.predict(X[te]), g.predict_nonzero_proba(X[te])
    out["gated_off"] = make_model("gated", "regression", seed=2).fit(X[tr], y[tr]).predict(X[te])
    names = ["chgnet energy_per_atom (eV)", "Fe", "O", "n sites"] + [f"x{i}" for i in range(4)]
    out["delta_names"] = make_model("delta", "regression", seed=3, feature_names=names).fit(X[tr], y[tr]).predict(X[te])
    out["delta_plain"] = make_model("delta", "regression", seed=3).fit(X[tr], y[tr]).predict(X[te])
    m = make_model("mlp", "regression", seed=4).fit(X[tr], y[tr])
    out["mlp_reg"] = m.predict(X[te])
    m = make_model("mlp", "classification", seed=4).fit(X[tr], y3[tr])
    out["mlp_clf"], out["mlp_proba"] = m.predict(X[te]), m.predict_proba(X[te])

    Xi = np.nan_to_num(X)
    for est_name, est in (("knn", KNeighborsRegressor(10)), ("rf", RandomForestRegressor(50, random_state=0))):
        base = U.ConformalRegressor(est, method="cv+", difficulty=None, random_state=5).fit(Xi[tr], y[tr])
        kind = "forest" if U.is_forest(base.full_model_) else "knn"
        normed = base.with_difficulty(Xi[tr], y[tr], kind)
        variants = {"cv+": base, "cv+n": normed, "split": base.as_split(0), "splitn": normed.as_split(0),
                    "cv": base.as_cv(Xi[tr], y[tr]), "cvn": normed.as_cv(Xi[tr], y[tr])}
        for v, cr in variants.items():
            ints = cr.predict_intervals(Xi[te], [0.05, 0.1, 0.5])
            for a, (lo, hi) in ints.items():
                out[f"conf_{est_name}_{v}_{a}"] = np.column_stack([lo, hi])
            yh, iv = cr.predict(Xi[te], return_interval=True)
            out[f"conf_{est_name}_{v}_pred"], out[f"conf_{est_name}_{v}_iv"] = yh, iv
        out[f"conf_{est_name}_spread"] = base.fold_spread(Xi[te])
        split = U.ConformalRegressor(est, method="split", difficulty="knn", point="mean").fit(Xi[tr], y[tr])
        out[f"conf_{est_name}_splitfit"] = np.column_stack(split.predict_interval(Xi[te]))
    q = U.QuantileBoostingRegressor(random_state=6).fit(X[tr], y[tr])
    out["qb_raw"] = np.column_stack(q.predict_interval(X[te], raw=True))
    out["qb_cqr"] = np.column_stack(q.predict_interval(X[te]))
    out["qb_pred"] = q.predict(X[te])
    q2 = U.QuantileBoostingRegressor(random_state=6).fit(X[tr], y[tr], fit_rows=np.arange(150),
                                                         calib_rows=np.arange(150, 240))
    out["qb_rows"] = np.column_stack(q2.predict_interval(X[te]))
    np.savez(path, **out)
    print(f"{len(out)} arrays -> {path}")


def compare(a, b):
    A, B = np.load(a), np.load(b)
    assert set(A.files) == set(B.files), set(A.files) ^ set(B.files)
    bad = [k for k in A.files if A[k].dtype != B[k].dtype or A[k].tobytes() != B[k].tobytes()]
    for k in bad:
        print("DIFFERENT", k, A[k].dtype, B[k].dtype, np.nanmax(np.abs(A[k].astype(float) - B[k].astype(float))))
    print(f"{len(A.files) - len(bad)}/{len(A.files)} arrays bit-identical")
    return not bad


if __name__ == "__main__":
    if sys.argv[1] == "dump":
        dump(sys.argv[2])
    else:
        sys.exit(0 if compare(sys.argv[2], sys.argv[3]) else 1)
