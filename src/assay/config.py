"""A run is fully described by one config; the run folder keeps it as config.toml."""
from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .models.zoo import DEFAULT_MODELS


@dataclass
class RunConfig:
    task: str | None = None  # a Matbench task, or None for the user's own data
    data: str | None = None  # explicit data file (a Matbench file for a task, or the user's file)
    target: str | None = None  # user data: target column
    input_column: str | None = None
    id_column: str | None = None
    task_type: str | None = None
    structures_dir: str | None = None
    features: str = "auto"  # a preset; "auto": composition-fast or structure-fast by input type
    models: list[str] = field(default_factory=lambda: list(DEFAULT_MODELS))
    primary_model: str | None = None  # the model the submission reports; declared, never picked on test folds
    split: str = "auto"  # official folds for Matbench tasks, else (stratified) k-fold
    n_folds: int = 5
    seed: int = 0
    n_jobs: int = 1
    cleaning: list[dict] = field(default_factory=list)
    out_dir: str = "runs"
    name: str | None = None
    # -- nested hyperparameter search (inside each outer training fold only) ------------------
    search: str = "none"  # "none" | "grid" | "random" | "tpe" (Optuna)
    search_trials: int = 20  # trial budget per model per outer fold
    search_seconds: float | None = None  # time budget per model per outer fold (not reproducible)
    search_inner_folds: int = 3
    search_models: list[str] | None = None  # None: every listed non-baseline model with a space
    # -- controls beside the models ----------------------------------------------------------
    controls: list[str] = field(default_factory=lambda: ["random-features", "scrambled-target"])
    control_models: list[str] | None = None  # None: the primary model only; ["all"]: every model
    # -- learning curve ------------------------------------------------------------------------
    learning_curve: bool = True
    learning_curve_sizes: list[float] = field(default_factory=lambda: [0.1, 0.3, 0.6, 1.0])
    learning_curve_models: list[str] | None = None  # None: the primary model only
    # -- classification: decision threshold chosen inside each training fold -------------------
    threshold: str = "balanced_accuracy"  # "balanced_accuracy" | "none"
    # -- more splits run beside the main one (e.g. ["loco"]), and where to run -----------------
    extra_splits: list[str] = field(default_factory=list)
    cluster: str | None = None  # Dask scheduler address, e.g. "tcp://host:8786"

    def __post_init__(self):
        if self.task is None and self.data is None:
            raise ValueError("A run needs a Matbench task or a data file.")
        if self.task is None and self.target is None:
            raise ValueError("For your own data, name the target column (--target).")
        self.models = list(self.models)
        if not self.models:
            raise ValueError("A run needs at least one model.")
        from .evaluation.controls import CONTROLS
        from .evaluation.search import STRATEGIES

        if self.search not in STRATEGIES:
            raise ValueError(f"search must be one of {STRATEGIES}, not {self.search!r}")
        self.controls = list(self.controls)
        bad = [c for c in self.controls if c not in CONTROLS]
        if bad:
            raise ValueError(f"unknown controls {bad}; known: {list(CONTROLS)}")
        if self.threshold not in ("balanced_accuracy", "none"):
            raise ValueError("threshold must be 'balanced_accuracy' or 'none'")
        self.learning_curve_sizes = sorted(float(f) for f in self.learning_curve_sizes)
        if any(not 0 < f <= 1 for f in self.learning_curve_sizes):
            raise ValueError("learning_curve_sizes are fractions in (0, 1]")
        self.extra_splits = list(self.extra_splits)

    def _resolve(self, names: list[str] | None) -> list[str]:
        if names is None:
            return [self.primary] if self.primary != "dummy" else []  # controls of a constant are moot
        if list(names) == ["all"]:
            return [m for m in self.models if m != "dummy"]
        return [m for m in names if m in self.models]

    @property
    def controlled_models(self) -> list[str]:
        """Models run beside their controls."""
        return self._resolve(self.control_models) if self.controls else []

    @property
    def curve_models(self) -> list[str]:
        return self._resolve(self.learning_curve_models) if self.learning_curve else []

    @property
    def searched_models(self) -> list[str]:
        if self.search == "none":
            return []
        from .models.zoo import get_model_spec

        names = self.models if self.search_models is None else \
            [m for m in self.search_models if m in self.models]
        return [m for m in names if get_model_spec(m).search_space
                and (self.search_models is not None or not get_model_spec(m).is_baseline)]

    @property
    def primary(self) -> str:
        if self.primary_model:
            return self.primary_model
        from .models.zoo import ZOO

        non_baseline = [m for m in self.models if m.startswith("stack") or (m in ZOO and not ZOO[m].is_baseline)]
        return (non_baseline or self.models)[-1]

    def identity(self) -> dict:
        """What determines the numbers (not where they are written or how many processes)."""
        d = asdict(self)
        for k in ("out_dir", "n_jobs", "name", "cluster"):
            d.pop(k)
        return d

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:10]

    def to_toml(self) -> str:
        lines = []
        tables = []
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            if f.name == "cleaning":
                for step in v:
                    tables.append("[[cleaning]]\n" + "\n".join(f"{k} = {_toml_value(x)}" for k, x in step.items()))
                continue
            lines.append(f"{f.name} = {_toml_value(v)}")
        return "\n".join(lines) + "\n" + ("\n" + "\n\n".join(tables) + "\n" if tables else "")

    @classmethod
    def from_toml(cls, path) -> "RunConfig":
        with open(path, "rb") as fh:
            d = tomllib.load(fh)
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"{path}: unknown config keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**d)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")
