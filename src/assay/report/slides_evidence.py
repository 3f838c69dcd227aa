"""The few things the talk says that the report's builder does not hand over ready-made: which of
the run's models scale their features, the share of test rows whose chemical system was seen in
training, and which way the leading features push the held-out prediction. Nothing is fitted
or scored here; everything is read or counted from the run folder."""
from __future__ import annotations

import numpy as np
import pandas as pd
from pymatgen.core import Composition
from scipy.stats import spearmanr

from ..explanation.run_inputs import RunData as Inputs
from ..models.zoo import get_model_spec, make_model
from .run_data import RunData


def _has_scaler(est) -> bool:
    """Whether an estimator (or anything nested in it) is a scikit-learn *Scaler."""
    seen = [est]
    try:
        seen += [v for v in est.get_params(deep=True).values() if hasattr(v, "get_params")]
    except Exception:  # noqa: BLE001 - not a scikit-learn estimator: no claim either way
        return False
    return any(type(v).__name__.endswith("Scaler") and type(v).__module__.startswith("sklearn.preprocessing")
               for v in seen)


def scaling_models(run: RunData) -> dict[str, bool]:
    """model -> whether its pipeline standardises the features (fitted inside each training fold).
    Models the zoo cannot build (a user's own) are left out: the talk makes no claim for them."""
    out = {}
    for m in run.models:
        try:
            spec = get_model_spec(m)
            out[m] = spec.family == "neural" or _has_scaler(make_model(m, run.task_type))
        except Exception:  # noqa: BLE001 - a plugin model or a missing optional package
            continue
    return out


def _chemsys(formula: str) -> frozenset | None:
    try:
        return frozenset(el.symbol for el in Composition(str(formula)).elements)
    except Exception:  # noqa: BLE001 - not a formula
        return None


def chemsys_seen_share(run: RunData) -> float | None:
    """Mean over test folds of the share of test rows whose chemical system (set of elements)
    occurs among that fold's training rows: the audit's number when it has one, else counted
    here from the inputs and folds.json. None when the inputs cannot be read as compositions."""
    ov = ((run.audit or {}).get("overlap") or {}).get("mean_chemsys_seen_share")
    if ov is not None:
        return float(ov)
    comp, tf = run.inputs, run.test_fold
    if not comp or tf is None:
        return None
    systems = [_chemsys(c) for c in comp.values()]
    if len(systems) != len(tf) or any(s is None for s in systems):
        return None
    tf = np.asarray(tf)
    shares = []
    for k in np.unique(tf[tf >= 0]):
        train = {s for s, f in zip(systems, tf) if f != k}
        test = [s for s, f in zip(systems, tf) if f == k]
        shares.append(np.mean([s in train for s in test]))
    return float(np.mean(shares)) if shares else None


def feature_directions(run: RunData, features: list[str], min_rho: float = 0.1) -> dict[str, float]:
    """feature -> Spearman rank correlation between its value and the primary model's held-out
    prediction (the probability of class 1 for a classifier): the sign says which way a higher
    value moves the prediction. Features whose |rho| < ``min_rho`` get 0 (no clear direction).
    Empty when the features cannot be recomputed (data moved, a user's own featuriser)."""
    if not features:
        return {}
    try:
        inp = Inputs(run.path)
    except Exception:  # noqa: BLE001 - the talk then says only how large each effect is
        return {}
    p = run.preds()
    col = "y_proba" if run.is_classification and p["y_proba"].notna().all() else "y_pred"
    pred = pd.Series(p[col].to_numpy(float), index=p["id"].astype(str))
    pos = {str(i): j for j, i in enumerate(inp.ids)}
    rows = [pos[i] for i in pred.index if i in pos]
    y = pred[[i for i in pred.index if i in pos]].to_numpy(float)
    out = {}
    for f in features:
        if f not in inp.labels or len(rows) < 5:
            continue
        x = inp.X[rows, inp.labels.index(f)]
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() < 5 or np.ptp(x[ok]) == 0:
            continue
        rho = float(spearmanr(x[ok], y[ok]).statistic)
        out[f] = rho if abs(rho) >= min_rho else 0.0
    return out


def builtin_importance(run: RunData, top: int = 5) -> list[tuple[str, float]]:
    """The refit model's own importances (trees: split or impurity importance), normalised to
    sum 1, when ``model.joblib`` holds a model that has them; else empty."""
    try:
        bundle = run.folder.load_pickle("model.joblib")
    except Exception:  # noqa: BLE001 - no refit model
        return []
    model = bundle.get("model") if isinstance(bundle, dict) else bundle
    labels = (bundle.get("labels") if isinstance(bundle, dict) else None) or run.features.get("labels")
    est = model
    while hasattr(est, "steps"):
        est = est.steps[-1][1]
    imp = getattr(est, "feature_importances_", None)
    if imp is None or labels is None or len(labels) != len(imp):
        return []
    imp = np.asarray(imp, float)
    if imp.sum() <= 0:
        return []
    imp = imp / imp.sum()
    order = np.argsort(-imp)[:top]
    return [(str(labels[i]), float(imp[i])) for i in order]
