"""The type checks of a run config and its run name: every key is checked before anything is
created on disk, with an error that names the key and the value."""
from __future__ import annotations

from pathlib import Path, PurePath

from ..errors import AssayError

__all__ = ["ConfigError", "check_run_name", "check_types"]


class ConfigError(AssayError, ValueError):
    """A config value of the wrong type or out of range; the message names the key."""


def check_run_name(name: str) -> str:
    """A run name is one folder name inside the output folder: no separators, no '..'."""
    p = PurePath(name)
    if not name or name in (".", "..") or p.is_absolute() or len(p.parts) != 1 or "/" in name \
            or "\\" in name or name.startswith("."):
        raise ConfigError(f"run name {name!r} must be a plain folder name (no '/', '..' or "
                          "absolute path): the run folder cannot leave the output folder")
    return name


_TYPES = {"task": (str,), "data": (str, list), "merge": (str,), "target": (str,), "input_column": (str,),
          "id_column": (str,), "task_type": (str,), "structures_dir": (str,),
          "primary_model": (str,), "n_folds": (int,), "seed": (int,), "n_jobs": (int,),
          "threads": (int,), "cleaning": (list,), "out_dir": (str,), "name": (str,),
          "search": (str,), "search_trials": (int,), "search_seconds": (int, float),
          "search_inner_folds": (int,), "search_models": (list,), "search_spaces": (dict,),
          "controls": (list,), "control_models": (list,), "learning_curve": (bool,),
          "learning_curve_sizes": (list,), "learning_curve_models": (list,),
          "threshold": (str,), "extra_splits": (list,), "cluster": (str,),
          "drop_invalid": (bool,), "target_transform": (str,), "target_shift": (int, float),
          "clip_features": (int, float)}
_MIN = {"n_folds": 2, "seed": 0, "n_jobs": 1, "threads": 1, "search_trials": 1,
        "search_inner_folds": 2}


def check_types(c) -> None:
    """Each key of a RunConfig ``c`` has its type (a Path where text is wanted becomes text) and
    its minimum, before the config's own value checks run."""
    for key, types in _TYPES.items():
        v = getattr(c, key)
        if v is None:
            continue
        if isinstance(v, Path) and str in types:
            setattr(c, key, str(v))
            continue
        if not isinstance(v, types) or (isinstance(v, bool) and bool not in types):
            want = " or ".join("a list" if t is list else "a table" if t is dict else
                               {"str": "text", "int": "a whole number", "float": "a number",
                                "bool": "true/false"}[t.__name__] for t in types)
            raise ConfigError(f"config key {key!r} must be {want}, not {type(v).__name__} {v!r}")
        if key in _MIN and v < _MIN[key]:
            raise ConfigError(f"config key {key!r} must be at least {_MIN[key]}, not {v}")
    for key in ("search_models", "controls", "control_models", "learning_curve_models", "extra_splits"):
        v = getattr(c, key)
        if v is not None and not all(isinstance(x, str) for x in v):
            raise ConfigError(f"config key {key!r} must be a list of names, not {v!r}")
    if isinstance(c.models, str):
        raise ConfigError(f"config key 'models' must be a list of names (e.g. [\"{c.models}\"]), "
                          f"not the text {c.models!r}")
    if not isinstance(c.models, (list, tuple, dict)):
        raise ConfigError(f"config key 'models' must be a list or a name -> model table, not {c.models!r}")
