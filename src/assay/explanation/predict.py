"""Predicting new materials with a finished run's refit model.

Every pickle is loaded through the RunFolder, which refuses one whose SHA-256 differs from the
one the run recorded (a run folder from someone else is code). A row that cannot be featurised
gets no prediction (NaN), domain "OUT" and the reason — never an imputed-mean number.
"""
from __future__ import annotations

from pathlib import Path

import cloudpickle
import numpy as np
import pandas as pd

from ..data.readers import read_table
from ..data.user import parse_formula_column, parse_structure_column
from ..errors import AssayError, InvalidDataError
from ..features import featurize
from ..run.folder import RunFolder
from ..ui import say
from .predictor import build_predictor
from .run_inputs import RunData

FORMULA_COLUMNS = ("formula", "composition")
STRUCTURE_COLUMNS = ("structure", "cif", "poscar")
#: Cells a spreadsheet would run as a formula; written with a leading apostrophe.
SPREADSHEET_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def load_predictor(run_dir, build: bool = True):
    """The run's trust predictor (conformal intervals / calibrated probabilities and domain
    model), from ``RUN/trust/predictor.joblib``; built there on first use when ``build``."""
    folder = RunFolder(run_dir)
    if folder.has("trust/predictor.joblib"):
        return folder.load_pickle("trust/predictor.joblib")
    if not build:
        return None
    say(f"fitting prediction intervals and the applicability domain for {folder.path.name} "
        "(once; saved to trust/predictor.joblib)")
    return build_predictor(RunData(folder.path))


def _features_spec(bundle):
    f = bundle["features"]
    return cloudpickle.loads(f) if isinstance(f, bytes) else f


def predict_frame(run_dir, inputs: pd.Series, trust: bool = True) -> pd.DataFrame:
    """Predictions for new inputs; with ``trust`` also the 90% interval (regression) or the
    calibrated probability (classification) and the applicability-domain flag with its reason."""
    folder = RunFolder(run_dir)
    if not folder.has("model.joblib"):
        raise AssayError(f"{run_dir} has no refit model (model.joblib); is the run finished?")
    bundle = folder.load_pickle("model.joblib")
    fs = featurize(inputs, _features_spec(bundle), input_type=bundle["input_type"], progress=False)
    X = fs.X[bundle["labels"]].to_numpy(float)
    est = bundle["model"]
    target = bundle["target"]
    out = pd.DataFrame({"input": [str(v) if bundle["input_type"] == "composition" else v.formula
                                  for v in inputs]})
    failed = np.zeros(len(out), bool)
    notes = [[] for _ in range(len(out))]
    for r, why in zip(fs.failed["row"], fs.failed["reason"]):
        failed[int(r)] = True
        notes[int(r)].append("not featurised: " + str(why))
    pred = np.full(len(out), np.nan)
    ok = ~failed
    if ok.any():
        pred[ok] = est.predict(X[ok])
    out[f"predicted {target}"] = pred
    clf = bundle["task_type"] == "classification"
    if clf and hasattr(est, "predict_proba"):
        proba = np.full(len(out), np.nan)
        if ok.any():
            proba[ok] = est.predict_proba(X[ok])[:, -1]
        out["probability"] = proba
        thr = (bundle.get("threshold") or {}).get("threshold")
        if thr is not None:  # the run's decision rule: the threshold chosen by inner CV
            out[f"predicted {target}"] = np.where(ok, (proba >= thr).astype(float), np.nan)
    labels = bundle.get("class_labels")
    if clf and labels:  # text labels the model was trained on (e.g. metal / nonmetal)
        names = {int(k): v for k, v in labels.items()} if isinstance(labels, dict) else dict(enumerate(labels))
        out[f"predicted {target}"] = [names.get(int(v), v) if v == v else None
                                      for v in out[f"predicted {target}"]]
    if trust:
        p = load_predictor(folder.path)
        if p is not None and p.get("labels") == bundle["labels"] and ok.any():
            Xo = X[ok]
            if bundle["task_type"] == "regression" and "conformal" in p:
                level = round(100 * (1 - p["alpha"]))
                lo, hi = np.full(len(out), np.nan), np.full(len(out), np.nan)
                lo[ok], hi[ok] = p["conformal"].predict_interval(Xo)
                lo, hi, why = clip_to_sign(lo, hi, bundle.get("target_range"))
                if why is not None:
                    for r in np.flatnonzero(ok & (why != "")):
                        notes[r].append(why[r])
                out[f"lower {level}%"] = lo
                out[f"upper {level}%"] = hi
            elif "calibrated" in p:
                cal = np.full(len(out), np.nan)
                cal[ok] = p["calibrated"].predict_proba(Xo)[:, -1]
                out["probability (calibrated)"] = cal
            dom = p["domain"].assess(Xo, [v for v, k in zip(inputs, ok) if k])
            flag = np.array(["OUT"] * len(out), dtype=object)
            dist = np.full(len(out), np.nan)
            flag[ok] = ["in" if f else "OUT" for f in dom["in_domain"]]
            dist[ok] = dom["distance"].round(3).to_numpy()
            out["domain"] = flag
            out["distance"] = dist
            for r, why in zip(np.flatnonzero(ok), dom["reason"]):
                if why:
                    notes[r].append(why)
        elif failed.any():
            out["domain"] = np.where(ok, "", "OUT")
    out["note"] = ["; ".join(n) for n in notes]
    return out


def clip_to_sign(lo, hi, target_range):
    """Intervals of a one-signed target (every training value >= 0, or <= 0) are clipped at 0,
    and each clipped row says so: an exfoliation energy interval reaching below zero is noise."""
    why = np.full(len(lo), "", dtype=object)
    if not target_range:
        return lo, hi, None
    tmin, tmax = target_range
    if tmin >= 0:
        cut = lo < 0
        lo = np.where(cut, 0.0, lo)
        why[cut] = "interval clipped at 0: the target is never negative in the training data"
    elif tmax <= 0:
        cut = hi > 0
        hi = np.where(cut, 0.0, hi)
        why[cut] = "interval clipped at 0: the target is never positive in the training data"
    return lo, hi, why


def predict_file(run_dir, data, input_column: str | None = None, trust: bool = True) -> pd.DataFrame:
    data = Path(data)
    if not data.is_file():
        raise AssayError(f"{data} does not exist")
    df, _, _ = read_table(data)  # the reader `assay run` uses: same file types, same messages
    if df.empty:
        raise InvalidDataError(f"{data} has no rows: give a file with a header and at least one row")
    folder = RunFolder(run_dir)
    input_type = folder.dataset_info().get("input_type", "composition")
    candidates = [input_column] if input_column else (
        FORMULA_COLUMNS if input_type == "composition" else STRUCTURE_COLUMNS)
    col = next((c for want in candidates for c in df.columns if want and str(c).lower() == want.lower()), None)
    if col is None:
        raise InvalidDataError(f"{data}: no input column; expected one of {list(candidates)}, "
                               f"found {list(df.columns)}")
    inputs = df[col]
    if input_type == "structure":
        inputs = parse_structure_column(inputs, column=str(col))
    else:
        inputs = pd.Series([_formula_text(v, str(col)) for v in inputs])
    return predict_frame(run_dir, inputs.reset_index(drop=True), trust=trust)


def _formula_text(value, column: str):
    """The loader's reading of one formula (hydrates rewritten); an unreadable one is kept as
    written, so that its row gets no prediction and the featuriser's reason."""
    try:
        return parse_formula_column(pd.Series([value]), column=column).iloc[0]
    except (InvalidDataError, ValueError, TypeError):
        return "" if value is None or value != value else str(value)


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would execute (=, +, -, @ first) prefixed with an apostrophe."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = [("'" + v) if isinstance(v, str) and v.startswith(SPREADSHEET_TRIGGERS) else v
                        for v in out[col]]
    return out
