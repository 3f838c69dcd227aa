"""The predictor ``assay predict`` uses beside the refit model: conformal intervals (or calibrated
probabilities) and the applicability-domain model, fitted on all rows and saved, with its
SHA-256 recorded, as RUN/trust/predictor.joblib."""
from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from . import uncertainty as U
from .domain import DomainModel
from .run_inputs import RunData


def build_predictor(rd: RunData, *, alpha: float = 0.1, n_inner: int = 5, opts: dict | None = None):
    """Fit conformal intervals (or calibrated probabilities) and the domain model on all rows
    and save them to RUN/trust/predictor.joblib."""
    opts = opts or {"n_neighbors": 5, "error_quantile": 0.8, "calibration_method": "isotonic"}
    rows, y = rd.training_rows(np.arange(len(rd.y)))
    X = rd.X[rows]
    inputs = rd.dataset.inputs.iloc[rows]
    full = None
    if rd.folder.has("model.joblib") and not rd.config.cleaning:
        bundle = rd.folder.load_pickle("model.joblib")
        if bundle.get("labels") == rd.labels and bundle.get("model_name") == rd.model_name:
            full = bundle["model"]
    pred = {"task_type": rd.task_type, "labels": rd.labels, "features": rd.features_text,
            "input_type": rd.dataset.input_type, "alpha": alpha, "model_name": rd.model_name}
    if rd.task_type == "regression":
        kind = "forest" if full is not None and U.is_forest(full) else "knn"
        cr = U.ConformalRegressor(rd.make_model(), method="cv+", alpha=alpha, n_folds=n_inner,
                                  difficulty=kind, point="full", random_state=rd.seed)
        cr.fit(X, y, full_model=full)
        pred["conformal"] = cr
        oof_err, splits = np.abs(y - cr.oof_pred_), cr.splits_
    else:
        cal = U.calibrated_classifier(rd.make_model(), method=opts["calibration_method"], cv=3).fit(X, y)
        pred["calibrated"] = cal
        splits = list(StratifiedKFold(3, shuffle=True, random_state=rd.seed).split(X, y))
        oof = cross_val_predict(rd.make_model(), X, y, cv=splits, method="predict_proba")[:, -1]
        oof_err = np.abs(y - oof)
    dm = DomainModel(n_neighbors=opts["n_neighbors"], error_quantile=opts["error_quantile"])
    pred["domain"] = dm.fit(X, inputs, oof_error=oof_err, splits=splits)
    rd.folder.write_pickle("trust/predictor.joblib", pred)
    return pred
