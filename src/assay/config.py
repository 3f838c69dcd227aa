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
    features: str = "magpie"
    models: list[str] = field(default_factory=lambda: list(DEFAULT_MODELS))
    primary_model: str | None = None  # the model the submission reports; declared, never picked on test folds
    split: str = "auto"  # official folds for Matbench tasks, else (stratified) k-fold
    n_folds: int = 5
    seed: int = 0
    n_jobs: int = 1
    cleaning: list[dict] = field(default_factory=list)
    out_dir: str = "runs"
    name: str | None = None

    def __post_init__(self):
        if self.task is None and self.data is None:
            raise ValueError("A run needs a Matbench task or a data file.")
        if self.task is None and self.target is None:
            raise ValueError("For your own data, name the target column (--target).")
        self.models = list(self.models)
        if not self.models:
            raise ValueError("A run needs at least one model.")

    @property
    def primary(self) -> str:
        if self.primary_model:
            return self.primary_model
        from .models.zoo import ZOO

        non_baseline = [m for m in self.models if m in ZOO and not ZOO[m].is_baseline]
        return (non_baseline or self.models)[-1]

    def identity(self) -> dict:
        """What determines the numbers (not where they are written or how many processes)."""
        d = asdict(self)
        for k in ("out_dir", "n_jobs", "name"):
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
