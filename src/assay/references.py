"""Import references: how a user's own model, featuriser or splitter reaches assay by name.

Wherever assay accepts a name (``--models``, ``--features``, ``--split``, config.toml), it also
accepts a reference to the user's code:

``module:attribute``          a module importable from the current folder or the environment
``path/to/file.py:attribute`` a file, loaded under a private module name
an entry-point name           an installed package registering itself in the groups
                              ``assay.models``, ``assay.featurizers`` or ``assay.splitters``

Why one place: the run records each reference with a hash of the source it resolved to, so a
notebook or report re-creating the run can say plainly whether it still imports the same code.
Modules loaded from a file are registered with cloudpickle *by value*, so worker processes (``-j 2``,
Dask) receive the user's code itself instead of failing to import a module they cannot see.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.metadata as md
import importlib.util
import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import cloudpickle
import pandas as pd

from .errors import PluginError
from .ui import say

#: Prefixes assay itself uses in names (``stack:rf+lgbm``, ``matminer:Name``, ``column:fold``).
RESERVED_PREFIXES = ("stack", "matminer", "column")
ENTRY_POINT_GROUPS = {"model": "assay.models", "featurizer": "assay.featurizers",
                      "splitter": "assay.splitters"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class Resolved:
    """What a reference resolved to, and how to find it again."""

    reference: str  # as the user wrote it
    obj: object
    source_sha256: str | None  # hash of the defining source, None when it cannot be read


def is_reference(text) -> bool:
    """``module:attr`` or ``file.py:attr`` (and not one of assay's own prefixed names)."""
    if not isinstance(text, str) or ":" not in text:
        return False
    mod, _, attr = text.rpartition(":")
    if mod in RESERVED_PREFIXES or not _IDENT.match(attr):
        return False
    return mod.endswith(".py") or bool(_IDENT.match(mod))


def entry_points(kind: str) -> dict[str, md.EntryPoint]:
    """Installed plug-ins of one kind ('model', 'featurizer', 'splitter') by name."""
    group = ENTRY_POINT_GROUPS[kind]
    return {ep.name: ep for ep in md.entry_points(group=group)}


def resolve(text: str, kind: str = "model") -> Resolved:
    """The object a reference or an entry-point name points to."""
    eps = entry_points(kind)
    if text in eps:
        try:
            obj = eps[text].load()
        except Exception as exc:  # noqa: BLE001 - a plug-in that fails to import is named
            raise PluginError(f"{kind} plug-in {text!r} (entry point {eps[text].value}) "
                                  f"failed to import: {type(exc).__name__}: {exc}") from exc
        return Resolved(text, obj, source_sha256(obj))
    if not is_reference(text):
        raise PluginError(f"{text!r} is not a {kind} name assay knows, nor a reference "
                              "'module:attribute' or 'path/to/file.py:attribute'")
    mod_name, _, attr = text.rpartition(":")
    module = _load_module(mod_name, text)
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise PluginError(f"{text}: module {module.__name__!r} has no attribute "
                                  f"{attr!r}") from None
    return Resolved(text, obj, source_sha256(obj))


def _load_module(mod_name: str, text: str):
    if mod_name.endswith(".py"):
        path = Path(mod_name).expanduser().resolve()
        if not path.is_file():
            raise PluginError(f"{text}: no file {path}")
        name = "assay_user_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001
            del sys.modules[name]
            raise PluginError(f"{text}: {path} raised {type(exc).__name__}: {exc}") from exc
        _pickle_by_value(module)
        return module
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # "the current folder importable", as python -m does
    try:
        module = importlib.import_module(mod_name)
    except ImportError as exc:
        raise PluginError(f"{text}: cannot import {mod_name!r} ({exc}); run from the folder "
                              "that holds it, or give a file path: path/to/file.py:attribute") from exc
    if _is_users_own(module):
        _pickle_by_value(module)
    return module


def _is_users_own(module) -> bool:
    """A module outside the installed environment (the user's folder): ship it by value."""
    f = getattr(module, "__file__", None)
    if not f:
        return False
    f = str(Path(f).resolve())
    return not any(seg in f for seg in ("site-packages", "dist-packages")) and \
        not f.startswith(str(Path(__file__).resolve().parent))


def ship_by_value(obj) -> None:
    """A user's object whose module lives in their own folder travels to worker processes as
    code (cloudpickle by value): a worker started in another folder could not import it."""
    target = obj if inspect.isclass(obj) or inspect.isfunction(obj) else type(obj)
    module = inspect.getmodule(target)
    if module is not None and module.__name__ != "__main__" and _is_users_own(module):
        _pickle_by_value(module)


def _pickle_by_value(module) -> None:
    try:
        cloudpickle.register_pickle_by_value(module)
    except ValueError:  # pragma: no cover - a module missing from sys.modules
        pass


def source_sha256(obj) -> str | None:
    """SHA-256 of the source that defines ``obj`` (its class for an instance); None when the
    source cannot be read (built-ins, interactive sessions)."""
    target = obj if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismodule(obj) \
        else type(obj)
    try:
        module = inspect.getmodule(target)
        src = inspect.getsource(module if module is not None else target)
    except (OSError, TypeError):
        return None
    return hashlib.sha256(src.encode()).hexdigest()


def qualified_name(obj) -> str:
    """``module:QualName`` of a class, function or an instance's class."""
    target = obj if inspect.isclass(obj) or inspect.isfunction(obj) else type(obj)
    return f"{target.__module__}:{target.__qualname__}"


# --- records: what config.toml keeps about a user's object, and re-creating it ---------------------
_PLAIN = (str, int, float, bool, type(None))


def plain_params(params: dict) -> bool:
    return all(isinstance(v, _PLAIN) or (isinstance(v, (list, tuple)) and all(isinstance(x, _PLAIN) for x in v))
               for v in params.values())


def importable(target) -> bool:
    mod = getattr(target, "__module__", "") or ""
    return not (mod == "__main__" or mod.startswith("assay_user_")
                or "<locals>" in getattr(target, "__qualname__", "<locals>")
                or "<lambda>" in getattr(target, "__qualname__", ""))


def describe(obj) -> dict:
    """A TOML-able record of a user's object: kind, text, parameters, source hash, and whether
    config.toml alone can build it again (``recreatable``)."""
    if isinstance(obj, str):
        rec = {"kind": "reference" if is_reference(obj) else "name", "text": obj, "recreatable": True}
        if is_reference(obj):
            try:
                rec["source_sha256"] = resolve(obj).source_sha256
            except PluginError:
                pass
        return rec
    if hasattr(obj, "shape") and hasattr(obj, "columns"):  # a table of precomputed features
        digest = hashlib.sha256(pd.util.hash_pandas_object(obj, index=True).values.tobytes()
                                + "|".join(map(str, obj.columns)).encode()).hexdigest()
        return {"kind": "table", "text": f"precomputed table {obj.shape[0]} x {obj.shape[1]}",
                "sha256": digest, "recreatable": False}
    if inspect.isclass(obj) or inspect.isfunction(obj) or not hasattr(obj, "get_params"):
        target = obj if (inspect.isclass(obj) or inspect.isfunction(obj)) else type(obj)
        return {"kind": "callable", "text": qualified_name(obj), "source_sha256": source_sha256(obj),
                "recreatable": importable(target) and (inspect.isclass(obj) or inspect.isfunction(obj))}
    params = obj.get_params(deep=False)
    plain = {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()
             if isinstance(v, _PLAIN + (list, tuple)) and v is not None}
    return {"kind": "object", "text": qualified_name(obj), "params": plain,
            "source_sha256": source_sha256(obj),
            "recreatable": importable(type(obj)) and plain_params(params)}


def recreate(rec: dict, what: str = "object"):
    """The object a ``describe`` record stands for; PluginError saying why when it cannot be."""
    kind, text = rec.get("kind"), rec.get("text", "?")
    if kind in ("name", "reference"):
        return text
    if not rec.get("recreatable"):
        raise PluginError(f"{what} {text!r} was a Python object that config.toml cannot re-create "
                          f"({kind}); pass it again in Python, or give it as a reference "
                          "'module:attribute' so the run can be re-created")
    obj = resolve(text, what if what in ENTRY_POINT_GROUPS else "model").obj
    if kind == "object":
        obj = obj(**rec.get("params", {}))
    sha = rec.get("source_sha256")
    if sha and source_sha256(obj) not in (None, sha):
        say(f"[yellow]note: the source of {text} changed since the run was recorded[/]")
    return obj
