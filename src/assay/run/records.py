"""Typed records passed between the stages of a run (and written into its folder).

Why records and not dicts: a fold result used to be a ~20-key dict filtered by a ``kind`` string
and read back by four modules with four views of it. Each record here has one ``to_dict`` (the
exact JSON the run folder holds, so artifacts keep their format) and one ``from_dict`` that
refuses a file missing what a result must have — which is how a truncated fold file is found.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

KINDS = ("main", "extra", "control", "curve")


@dataclass
class FoldSpec:
    """One (model, fold, variant) to compute: indices only, no data (the plan)."""

    kind: str  # main | extra | control | curve
    model: str
    fold: int
    split: str
    train: np.ndarray
    test: np.ndarray
    path: str  # where its FoldResult is written
    variant: str | None = None  # control name, or size_<f> for a learning-curve point
    fraction: float | None = None
    scramble: bool = False
    random_features: bool = False  # use the random-feature control matrix
    threshold: bool = False  # choose the decision threshold inside the training fold
    search: dict | None = None  # {strategy, n_trials, seconds, inner_folds, path}
    keep_predictions: bool = True
    cost: float = 1.0


@dataclass
class FoldJob:
    """What one worker receives: the spec plus only the rows it needs.

    ``X``/``y`` hold the training rows then the test rows (``n_train`` of them first); ``ids``
    are the test rows' ids; ``train_data`` is the training rows' Dataset, sent only when
    cleaning steps need it.
    """

    spec: FoldSpec
    model: Any  # models.entries.ModelEntry
    task_type: str
    seed: int
    X: np.ndarray
    y: np.ndarray
    n_train: int
    test_ids: np.ndarray
    feature_names: list[str] | None
    cleaning: list[dict] = field(default_factory=list)
    train_data: Any = None  # data.dataset.Dataset of the training rows, when cleaning
    run_dir: str | None = None
    threads: int = 1  # threads inside the worker (torch); never the number of processes


_REQUIRED = ("model", "fold", "kind", "scores", "train_scores", "fit_seconds", "n_train", "n_test")


@dataclass
class FoldResult:
    """The outcome of one FoldJob, as ``folds/<model>/fold_<k>.json`` holds it."""

    model: str
    fold: int
    kind: str
    scores: dict
    train_scores: dict
    fit_seconds: float
    n_train: int
    n_test: int
    variant: str | None = None
    split: str | None = None
    fraction: float | None = None
    cleaning: dict | None = None
    params: dict = field(default_factory=dict)
    search: dict | None = None
    threshold: dict | None = None
    feature_clipping: dict | None = None  # FeatureWinsorizer counts, when the run clips features
    ids: list | None = None
    y_true: list | None = None
    y_pred: list | None = None
    y_proba: list | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        if self.feature_clipping is None:  # off: fold files as before the option
            d.pop("feature_clipping")
        if self.ids is None:  # controls and curve points keep no predictions
            for k in ("ids", "y_true", "y_pred", "y_proba"):
                d.pop(k)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "FoldResult":
        if not isinstance(d, dict):
            raise ValueError("not a JSON object")
        missing = [k for k in _REQUIRED if k not in d]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        if d["kind"] not in KINDS or not isinstance(d["scores"], dict):
            raise ValueError("malformed kind or scores")
        if d.get("ids") is not None and len(d["ids"]) != len(d.get("y_pred") or []):
            raise ValueError("ids and predictions differ in length")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def metric(self, name: str) -> float:
        return float(self.scores.get(name, float("nan")))


@dataclass
class ModelSummary:
    """Fold mean/std/min/max of every metric of one model (ddof=0, as the leaderboard)."""

    model: str
    metrics: dict  # metric -> {mean, std, min, max}


@dataclass
class LearningCurvePoint:
    fraction: float
    fold: int
    n_train: int
    train_score: float
    validation_score: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Comparison:
    """comparison.json: every model against its baselines and controls, paired over folds."""

    metric: str
    higher_is_better: bool
    rows: list[dict]
    baselines: list[str]
    fold_scores: dict
    controls: dict
    extra: dict = field(default_factory=dict)  # alpha, test description

    def to_dict(self) -> dict:
        return {**self.extra, "metric": self.metric, "higher_is_better": self.higher_is_better,
                "rows": self.rows, "baselines": self.baselines, "fold_scores": self.fold_scores,
                "controls": self.controls}

    @classmethod
    def from_dict(cls, d: dict) -> "Comparison":
        core = ("metric", "higher_is_better", "rows", "baselines", "fold_scores", "controls")
        return cls(**{k: d.get(k) for k in core},
                   extra={k: v for k, v in d.items() if k not in core})


@dataclass
class TrustSummary:
    """The headline of ``assay explain``: what ``trust/summary.json`` says first."""

    method: str
    seconds: float
    headline: dict
    files: list[str] = field(default_factory=list)
