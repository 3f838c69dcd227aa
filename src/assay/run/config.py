"""A run is fully described by one config; the run folder keeps it as config.toml.

``models``, ``features`` and ``split`` take assay's names and also the user's own pieces: import
references (``module:attr``, ``file.py:attr``), and in Python the objects themselves (scikit-learn
estimators or factories, matminer featurisers, callables, a table of precomputed features, any
scikit-learn CV splitter). config.toml records each with the hash of its source; objects
config.toml cannot rebuild are recorded with ``recreatable = false`` and the run says so.

Every key is type-checked (config_checks) before anything is created on disk. The config is never
mutated by a run (the run works on a resolved copy).
"""
from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field, fields
from typing import Any

from ..data.transforms import TARGET_TRANSFORMS
from ..errors import PluginError
from ..evaluation.controls import CONTROLS
from ..evaluation.search import STRATEGIES
from ..models.entries import resolve_models
from ..models.zoo import DEFAULT_MODELS
from ..references import describe, is_reference, recreate, resolve
from .config_checks import ConfigError, check_run_name, check_types


@dataclass
class RunConfig:
    task: str | None = None  # a Matbench task, or None for the user's own data
    data: Any = None  # a data file (a Matbench file for a task, or the user's), or a list of files
    merge: str = "keep"  # several data files: keep | mean | prefer:<source> (see data.sources)
    target: str | None = None  # user data: target column
    input_column: str | None = None
    id_column: str | None = None
    task_type: str | None = None
    structures_dir: str | None = None
    drop_invalid: bool = False  # user data: drop rows with a missing/invalid target or input (logged)
    features: Any = "auto"  # preset | reference | featuriser(s) | callable | DataFrame
    models: Any = field(default_factory=lambda: list(DEFAULT_MODELS))  # list or name -> model dict
    primary_model: str | None = None  # the model the submission reports; declared, never picked on test folds
    split: Any = "auto"  # a split name, a reference, any scikit-learn CV splitter, or "column:<name>"
    n_folds: int = 5
    seed: int = 0
    n_jobs: int = 1  # processes
    threads: int = 1  # threads inside one process (torch, BLAS); never changes a score
    cleaning: list[dict] = field(default_factory=list)
    out_dir: str = "runs"
    name: str | None = None
    # -- nested hyperparameter search (inside each outer training fold only) ------------------
    search: str = "none"  # "none" | "grid" | "random" | "tpe" (Optuna)
    search_trials: int = 20  # trial budget per model per outer fold
    search_seconds: float | None = None  # time budget per model per outer fold (not reproducible)
    search_inner_folds: int = 3
    search_models: list[str] | None = None  # None: every listed non-baseline model with a space
    search_spaces: dict = field(default_factory=dict)  # model -> {param: ("int", lo, hi) | ...}
    # -- controls beside the models ----------------------------------------------------------
    controls: list[str] = field(default_factory=lambda: ["random-features", "scrambled-target"])
    control_models: list[str] | None = None  # None: the primary model only; ["all"]: every model
    # -- learning curve ------------------------------------------------------------------------
    learning_curve: bool = True
    learning_curve_sizes: list[float] = field(default_factory=lambda: [0.1, 0.3, 0.6, 1.0])
    learning_curve_models: list[str] | None = None  # None: the primary model only
    # -- classification: decision threshold chosen inside each training fold -------------------
    threshold: str = "balanced_accuracy"  # "balanced_accuracy" | "none"
    target_transform: str = "none"  # "none" | "log10": models fit log10(y + shift), predict y
    target_shift: float = 0.0
    clip_features: float | None = None  # winsorise features at (q, 1-q) training-fold quantiles
    # -- more splits run beside the main one (e.g. ["loco"]), and where to run -----------------
    extra_splits: list[str] = field(default_factory=list)
    cluster: str | None = None  # Dask scheduler address, e.g. "tcp://host:8786"

    def __post_init__(self):
        check_types(self)
        if self.task is None and self.data is None:
            raise ConfigError("A run needs a Matbench task or a data file.")
        if self.task is None and self.target is None:
            raise ConfigError("For your own data, name the target column (--target).")
        if isinstance(self.models, (list, tuple)):
            self.models = list(self.models)
        if not self.models:
            raise ConfigError("A run needs at least one model.")
        if self.search not in STRATEGIES:
            raise ConfigError(f"search must be one of {STRATEGIES}, not {self.search!r}")
        self.controls = list(self.controls)
        bad = [c for c in self.controls if c not in CONTROLS]
        if bad:
            raise ConfigError(f"unknown controls {bad}; known: {list(CONTROLS)}")
        if self.target_transform not in ("none", *TARGET_TRANSFORMS):
            raise ConfigError(f"target_transform must be one of {('none', *TARGET_TRANSFORMS)}, "
                              f"not {self.target_transform!r}")
        if self.threshold not in ("balanced_accuracy", "none"):
            raise ConfigError("threshold must be 'balanced_accuracy' or 'none'")
        self.learning_curve_sizes = sorted(float(f) for f in self.learning_curve_sizes)
        if any(not 0 < f <= 1 for f in self.learning_curve_sizes):
            raise ConfigError("learning_curve_sizes are fractions in (0, 1]")
        self.extra_splits = list(self.extra_splits)
        if self.clip_features is not None and not 0 < self.clip_features < 0.5:
            raise ConfigError(f"clip_features is the lower quantile q of the (q, 1-q) clip, in (0, 0.5), "
                              f"e.g. 0.01; not {self.clip_features!r}")
        if self.name is not None:
            check_run_name(self.name)

    # -- names ---------------------------------------------------------------------------------
    @property
    def model_names(self) -> list[str]:
        """The models' names in order (``--models all`` is expanded by the run, not here)."""
        if isinstance(self.models, dict):
            return list(self.models)
        if self.models == ["all"]:
            return ["all"]
        return list(resolve_models(self.models).keys()) if any(not isinstance(m, str) or ":" in m
                                                               for m in self.models) else list(self.models)

    def _resolve(self, names: list[str] | None) -> list[str]:
        models = self.model_names
        if names is None:
            return [self.primary] if self.primary != "dummy" else []  # controls of a constant are moot
        if list(names) == ["all"]:
            return [m for m in models if m != "dummy"]
        return [m for m in names if m in models]

    @property
    def controlled_models(self) -> list[str]:
        """Models run beside their controls."""
        return self._resolve(self.control_models) if self.controls else []

    @property
    def curve_models(self) -> list[str]:
        return self._resolve(self.learning_curve_models) if self.learning_curve else []

    @property
    def primary(self) -> str:
        """The declared model: ``primary_model``, else the last non-baseline model listed."""
        if self.primary_model:
            return self.primary_model
        names = self.model_names
        if names == ["all"]:
            return "lgbm"
        entries = resolve_models(self.models, self.search_spaces) if not isinstance(self.models, dict) \
            or all(not _is_record(v) for v in self.models.values()) else None
        if entries is None:
            return names[-1]
        non_baseline = [n for n, e in entries.items() if not e.is_baseline]
        return (non_baseline or names)[-1]

    # -- identity ------------------------------------------------------------------------------
    def identity(self) -> dict:
        """What determines the numbers (not where they are written or how many processes)."""
        d = {f.name: getattr(self, f.name) for f in fields(self)
             if f.name not in ("out_dir", "n_jobs", "name", "cluster", "threads", "data",
                               "structures_dir")}  # where the data lies: the content hash covers it
        if d["clip_features"] is None:
            del d["clip_features"]  # off: the ids of runs made before the option stay the same
        d["models"] = _describe_models(self.models)
        d["features"] = _describe_any(self.features)
        d["split"] = _describe_any(self.split)
        return json.loads(json.dumps(d, sort_keys=True, default=str))

    def digest(self, data_sha256: str | None = None) -> str:
        ident = self.identity()
        if data_sha256:
            ident["data_sha256"] = data_sha256
        return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:10]

    def replace(self, **changes) -> "RunConfig":
        """A new, re-validated config with some keys changed; this one is untouched."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d.update(changes)
        return RunConfig(**d)

    # -- TOML ----------------------------------------------------------------------------------
    def to_toml(self) -> str:
        lines, tables = [], []
        plugins: dict[str, dict] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None or (f.name == "search_spaces" and not v):
                continue
            if f.name == "cleaning":
                for step in v:
                    tables.append("[[cleaning]]\n" + "\n".join(f"{k} = {_toml_value(x)}"
                                                              for k, x in step.items()))
                continue
            if f.name == "models":
                names, recs = _models_for_toml(v)
                v = names
                for n, rec in recs.items():
                    plugins[f"models.{_toml_key(n)}"] = rec
            elif f.name in ("features", "split") and not isinstance(v, str):
                plugins[f.name] = _describe_any(v)
                v = f"plugin:{f.name}"
            elif f.name == "search_spaces":
                for n, space in v.items():
                    tables.append(f"[search_spaces.{_toml_key(n)}]\n" + "\n".join(
                        f"{_toml_key(k)} = {_toml_value(list(x))}" for k, x in space.items()))
                continue
            lines.append(f"{f.name} = {_toml_value(v)}")
        sources = self.reference_sources()
        if sources:
            plugins["sources"] = sources
        for key, rec in plugins.items():
            if isinstance(rec, list):
                rec = {"list": json.dumps(rec)}
            tables.append(f"[plugins.{key}]\n" + "\n".join(f"{_toml_key(k)} = {_toml_value(x)}"
                                                          for k, x in rec.items() if x is not None))
        return "\n".join(lines) + "\n" + ("\n" + "\n\n".join(tables) + "\n" if tables else "")

    def reference_sources(self) -> dict:
        """reference -> SHA-256 of the source it imports now (what config.toml records, so a
        later re-creation can tell whether the user's code changed)."""
        refs = []
        models = self.models.values() if isinstance(self.models, dict) else self.models
        refs += [m for m in models if isinstance(m, str)]
        feats = self.features if isinstance(self.features, list) else [self.features]
        refs += [f for f in feats if isinstance(f, str)]
        refs += [self.split] if isinstance(self.split, str) else []
        out = {}
        for ref in refs:
            if is_reference(ref):
                try:
                    out[ref] = resolve(ref).source_sha256 or "unknown"
                except PluginError:
                    out[ref] = "does not import"
        return out

    @classmethod
    def from_toml(cls, path) -> "RunConfig":
        try:
            with open(path, "rb") as fh:
                d = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc}); check quotes and brackets on that line") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from None
        return cls.from_dict(d, source=str(path))

    @classmethod
    def from_dict(cls, d: dict, source: str = "config") -> "RunConfig":
        d = dict(d)
        if isinstance(d.get("data"), list) and d["data"] and all(isinstance(x, dict) for x in d["data"]):
            d["data"] = [x.get("path") for x in d["data"]]  # [[data]] tables: path = "..."
        plugins = dict(d.pop("plugins", {}) or {})
        plugins.pop("sources", None)  # recorded for people and notebooks; not a setting
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ConfigError(f"{source}: unknown config keys {sorted(unknown)}; known: {sorted(known)}")
        model_recs = plugins.get("models", {}) or {}
        if model_recs and isinstance(d.get("models"), list):
            d["models"] = {n: (PluginRecord(model_recs[n]) if n in model_recs else n)
                           for n in d["models"]}
        for key in ("features", "split"):
            if d.get(key) == f"plugin:{key}" and key in plugins:
                d[key] = PluginRecord(plugins[key])
        try:
            return cls(**d)
        except TypeError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    def materialise(self, objects: dict | None = None) -> "RunConfig":
        """Plugin records from config.toml turned back into the objects (PluginError if not).

        ``objects`` (the run folder's ``plugins.pkl``: the user's objects as the run pickled
        them) stand in for records config.toml alone cannot re-create."""
        objects = objects or {}
        models = self.models
        if isinstance(models, dict):
            have = objects.get("models", {})
            models = {n: (have[n] if n in have and _is_record(v) else
                          v.recreate("model") if _is_record(v) else v) for n, v in models.items()}
        out = {"models": models}
        for key, what in (("features", "featurizer"), ("split", "splitter")):
            v = getattr(self, key)
            if _is_record(v):
                v = objects[key] if key in objects else v.recreate(what)
            out[key] = v
        return self.replace(**out)

    def user_objects(self) -> dict:
        """The user's Python objects in this config (what ``plugins.pkl`` keeps)."""
        out: dict = {}
        if isinstance(self.models, dict):
            objs = {n: v for n, v in self.models.items() if not isinstance(v, str) and not _is_record(v)}
            if objs:
                out["models"] = objs
        for key in ("features", "split"):
            v = getattr(self, key)
            if not isinstance(v, str) and not _is_record(v) and not (
                    isinstance(v, list) and all(isinstance(x, str) for x in v)):
                out[key] = v
        return out


class PluginRecord(dict):
    """A user's object as config.toml recorded it (see ``references.describe``)."""

    def recreate(self, what: str):
        if "list" in self:
            return [recreate(r, what) if isinstance(r, dict) else r for r in json.loads(self["list"])]
        return recreate(dict(self), what)


def _is_record(v) -> bool:
    return isinstance(v, PluginRecord)


def _describe_any(v):
    if _is_record(v):
        return dict(v)
    if isinstance(v, (list, tuple)) and not all(isinstance(x, str) for x in v):
        return [describe(x) for x in v]
    if isinstance(v, (str, list, tuple)):
        return v
    return describe(v)


def _describe_models(models):
    if isinstance(models, dict):
        return {n: (dict(v) if _is_record(v) else describe(v)) for n, v in models.items()}
    return [m if isinstance(m, str) else describe(m) for m in models]


def _models_for_toml(models) -> tuple[list[str], dict]:
    if isinstance(models, dict):
        names, recs = [], {}
        for n, v in models.items():
            names.append(n)
            if _is_record(v):
                recs[n] = dict(v)
            elif not (isinstance(v, str) and v == n):
                recs[n] = describe(v)
        return names, recs
    if all(isinstance(m, str) for m in models):
        return list(models), {}
    return _models_for_toml(dict(zip(resolve_models(models).keys(), models)))


def _toml_key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


__all__ = ["RunConfig", "ConfigError", "PluginRecord", "check_run_name"]
