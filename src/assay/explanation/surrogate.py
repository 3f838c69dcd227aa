"""Interpretable surrogates of a fitted model: a shallow decision tree and a sparse linear model
fitted to the model's own predictions, with their fidelity (how well they reproduce the model on
rows neither saw) stated, so a reader knows how far to trust the simple story."""
from __future__ import annotations

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Lasso
from sklearn.metrics import r2_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor, export_text


def fidelity(model_out, surrogate_out, task_type: str = "regression") -> dict:
    """R² of surrogate vs model (regression) or label agreement (classification)."""
    a, b = np.asarray(model_out, float), np.asarray(surrogate_out, float)
    if task_type == "classification":
        return {"agreement": float(np.mean((a >= 0.5) == (b >= 0.5))),
                "r2_probability": float(r2_score(a, b)) if np.ptp(a) > 0 else float("nan")}
    return {"r2": float(r2_score(a, b)) if np.ptp(a) > 0 else float("nan"),
            "mae_to_model": float(np.mean(np.abs(a - b)))}


def _imp():
    return SimpleImputer(strategy="median", keep_empty_features=True)


def tree_surrogate(max_depth: int = 3, seed: int = 0, task_type: str = "regression"):
    """Regression tree on the model's outputs (predictions, or probabilities for classifiers)."""
    return Pipeline([("impute", _imp()),
                     ("tree", DecisionTreeRegressor(max_depth=max_depth, min_samples_leaf=10,
                                                    random_state=seed))])


def sparse_linear_surrogate(X, target, max_features: int = 10):
    """Lasso on standardised features with the strongest penalty path point having at most
    ``max_features`` non-zero coefficients (chosen on a geometric grid)."""
    X = np.asarray(X, float)
    t = np.asarray(target, float)
    best = None
    scale = float(np.std(t)) or 1.0
    for a in np.geomspace(1.0, 1e-4, 25) * scale:
        m = Pipeline([("impute", _imp()), ("scale", StandardScaler()),
                      ("lasso", Lasso(alpha=a, max_iter=5000))]).fit(X, t)
        nz = int(np.sum(m[-1].coef_ != 0))
        if nz > max_features:
            break
        best = m
    return best if best is not None else m


def surrogate_fold(X_train, model_train_out, X_test, model_test_out, labels, *,
                   task_type: str = "regression", max_depth: int = 3, max_features: int = 10,
                   seed: int = 0) -> dict:
    """Fit both surrogates on one fold's training rows (to the model's outputs there) and
    measure fidelity on the fold's held-out rows."""
    tree = tree_surrogate(max_depth, seed, task_type).fit(X_train, model_train_out)
    lin = sparse_linear_surrogate(X_train, model_train_out, max_features)
    return {"tree": fidelity(model_test_out, tree.predict(X_test), task_type),
            "linear": fidelity(model_test_out, lin.predict(X_test), task_type),
            "tree_model": tree, "linear_model": lin}


def describe_tree(tree_pipe, labels) -> dict:
    t = tree_pipe[-1]
    used = sorted({labels[i] for i in t.tree_.feature if i >= 0})
    return {"rules": export_text(t, feature_names=list(labels), decimals=3),
            "features_used": used, "depth": int(t.get_depth()), "leaves": int(t.get_n_leaves())}


def describe_linear(lin_pipe, labels) -> dict:
    lasso = lin_pipe[-1]
    coefs = [{"feature": labels[j], "coefficient_per_sd": float(c)}
             for j, c in enumerate(lasso.coef_) if c != 0]
    coefs.sort(key=lambda d: -abs(d["coefficient_per_sd"]))
    return {"intercept": float(lasso.intercept_), "coefficients": coefs,
            "note": "coefficients are per standard deviation of each feature"}
