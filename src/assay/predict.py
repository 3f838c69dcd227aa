"""Predicting new materials with a finished run's refit model."""
from __future__ import annotations

from pathlib import Path

import joblib
import pandas as pd

from .data.errors import AssayError, InvalidDataError


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix == ".json":
        return pd.read_json(path)
    raise InvalidDataError(f"{path}: unsupported file type {suffix!r} (use CSV, JSON or parquet)")


def load_predictor(run_dir, build: bool = True):
    """The run's trust predictor (conformal intervals / calibrated probabilities and domain
    model), from ``RUN/trust/predictor.joblib``; built there on first use when ``build``."""
    path = Path(run_dir) / "trust" / "predictor.joblib"
    if path.is_file():
        return joblib.load(path)
    if not build:
        return None
    from .explanation.trust import RunData, build_predictor
    from .ui import say

    say(f"fitting prediction intervals and the applicability domain for {Path(run_dir).name} "
        "(once; saved to trust/predictor.joblib)")
    return build_predictor(RunData(run_dir))


def predict_frame(run_dir, inputs: pd.Series, trust: bool = True) -> pd.DataFrame:
    """Predictions for new inputs; with ``trust`` also the 90% interval (regression) or the
    calibrated probability (classification) and the applicability-domain flag with its reason."""
    from .features import featurize

    path = Path(run_dir) / "model.joblib"
    if not path.is_file():
        raise AssayError(f"{run_dir} has no refit model (model.joblib); is the run finished?")
    bundle = joblib.load(path)
    fs = featurize(inputs, bundle["features"], input_type=bundle["input_type"], progress=False)
    X = fs.X[bundle["labels"]].to_numpy(float)
    est = bundle["model"]
    out = pd.DataFrame({"input": [str(v) if bundle["input_type"] == "composition" else v.formula
                                  for v in inputs]})
    out[f"predicted {bundle['target']}"] = est.predict(X)
    if bundle["task_type"] == "classification" and hasattr(est, "predict_proba"):
        out["probability"] = est.predict_proba(X)[:, -1]
        thr = (bundle.get("threshold") or {}).get("threshold")
        if thr is not None:  # the run's decision rule: the threshold chosen by inner CV
            out[f"predicted {bundle['target']}"] = (out["probability"] >= thr).astype(int)
    notes = [[] for _ in range(len(out))]
    if len(fs.failed):
        for r, why in zip(fs.failed["row"], fs.failed["reason"]):
            notes[int(r)].append("featurisation failed: " + str(why))
    if trust:
        pred = load_predictor(run_dir)
        if pred is not None and pred.get("labels") == bundle["labels"]:
            if bundle["task_type"] == "regression" and "conformal" in pred:
                level = round(100 * (1 - pred["alpha"]))
                lo, hi = pred["conformal"].predict_interval(X)
                out[f"lower {level}%"] = lo
                out[f"upper {level}%"] = hi
            elif "calibrated" in pred:
                out["probability (calibrated)"] = pred["calibrated"].predict_proba(X)[:, -1]
            dom = pred["domain"].assess(X, list(inputs))
            out["domain"] = ["in" if f else "OUT" for f in dom["in_domain"]]
            out["distance"] = dom["distance"].round(3).to_numpy()
            for r, why in enumerate(dom["reason"]):
                if why:
                    notes[r].append(why)
    out["note"] = ["; ".join(n) for n in notes]
    return out


def predict_file(run_dir, data, input_column: str | None = None, trust: bool = True) -> pd.DataFrame:
    data = Path(data)
    if not data.is_file():
        raise AssayError(f"{data} does not exist")
    df = _read_table(data)
    if df.empty:
        raise InvalidDataError(f"{data} has no rows")
    bundle_type = joblib.load(Path(run_dir) / "model.joblib")["input_type"] \
        if (Path(run_dir) / "model.joblib").is_file() else "composition"
    candidates = [input_column] if input_column else (
        ["formula", "composition"] if bundle_type == "composition" else ["structure", "cif"])
    col = next((c for c in df.columns for want in candidates if want and c.lower() == want.lower()), None)
    if col is None:
        raise InvalidDataError(f"{data}: no input column; expected one of {candidates}, "
                               f"found {list(df.columns)}")
    inputs = df[col]
    if bundle_type == "structure":
        from .data.user import parse_structure_column  # noqa: F401  (structures parsed by the loader)

        inputs = parse_structure_column(inputs)
    return predict_frame(run_dir, inputs.reset_index(drop=True), trust=trust)
