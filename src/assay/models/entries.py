"""A model as a run knows it: a zoo name, an import reference, or the user's own estimator.

``resolve_models`` turns whatever the user passed (a list of names, a ``name -> model`` dict whose
values are zoo names, references ``module:attr``, scikit-learn estimators or factories) into
``ModelEntry`` records. Every entry builds a fresh, unfitted estimator for a (task type, seed),
so a user's model gets exactly the treatment of a zoo model: the same folds, controls, learning
curve, nested search (with the search space the user passes), refit and ``predict``.

Why entries and not names: worker processes used to rebuild models by name and failed on anything
outside the zoo (``KeyError: Unknown model``). An entry is shipped to the worker whole (pickled with
cloudpickle), so whatever the user defined, in a module, a file or a notebook, reaches it.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from sklearn.base import BaseEstimator, clone, is_classifier, is_regressor
from sklearn.compose import TransformedTargetRegressor

from ..data.transforms import TARGET_TRANSFORMS

from ..errors import PluginError
from ..features.preprocessing import with_winsorizer
from ..references import (entry_points, importable, is_reference, plain_params, qualified_name, resolve,
                          ship_by_value, source_sha256)
from .zoo import ZOO, get_model_spec, make_model


@dataclass
class ModelEntry:
    """One model of a run. ``kind``: 'zoo' | 'reference' | 'estimator' | 'factory'."""

    name: str
    kind: str
    text: str  # zoo name, the reference, or ``module:Class`` of a user's estimator
    obj: Any = None  # the prototype estimator or the factory (None for zoo models)
    search_space: dict = field(default_factory=dict)
    is_baseline: bool = False
    source_sha256: str | None = None
    params: dict = field(default_factory=dict)  # a user estimator's get_params(deep=False)
    target_transform: tuple | None = None  # e.g. ("log10", shift): fitted on the transformed target
    feature_clip: float | None = None  # winsorise features at (q, 1-q) training quantiles (non-baselines)

    def build(self, task_type: str, seed: int = 0, feature_names=None, threads: int = 1,
              **params) -> BaseEstimator:
        """A fresh, unfitted estimator (wrapped in the run's target transform, if any): the
        model is fitted on the transformed target and predicts in the target's own units."""
        est = self._build(task_type, seed, feature_names, threads, **params)
        if self.feature_clip and not self.is_baseline:
            est = with_winsorizer(est, self.feature_clip)
        if self.target_transform and task_type == "regression":
            name, shift = self.target_transform
            t = TARGET_TRANSFORMS[name](shift)
            est = TransformedTargetRegressor(regressor=est, func=t.forward, inverse_func=t.inverse,
                                             check_inverse=False)
        return est

    def _build(self, task_type: str, seed: int = 0, feature_names=None, threads: int = 1,
               **params) -> BaseEstimator:
        """A fresh, unfitted estimator. ``n_jobs`` is always 1 (processes are assay's
        parallelism); ``threads`` reaches estimators with a ``threads`` parameter (torch)."""
        if self.kind == "zoo":
            est = make_model(self.text, task_type, seed=seed, n_jobs=1,
                             feature_names=feature_names, **params)
            if threads != 1 and "threads" in est.get_params(deep=False):
                est.set_params(threads=threads)
            return est
        est = self._call_factory(task_type, seed) if self.kind == "factory" or (
            self.kind == "reference" and not isinstance(self.obj, BaseEstimator)) else clone(self.obj)
        if not hasattr(est, "fit") or not hasattr(est, "predict"):
            raise PluginError(f"model {self.name!r} ({self.text}) built a {type(est).__name__}, "
                              "which has no fit/predict")
        own = est.get_params(deep=False) if hasattr(est, "get_params") else {}
        if "random_state" in own and own["random_state"] is None:
            est.set_params(random_state=seed)  # reproducible, as every zoo model is
        if feature_names is not None and "feature_names" in own:
            est.set_params(feature_names=list(feature_names))
        if params:
            est.set_params(**params)
        return est

    def _call_factory(self, task_type, seed):
        fn = self.obj
        try:
            sig = inspect.signature(fn)
            accepted = set(sig.parameters)
            var_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
        except (TypeError, ValueError):
            accepted, var_kw = set(), False
        kw = {k: v for k, v in (("task_type", task_type), ("seed", seed))
              if var_kw or (k in accepted and not inspect.isclass(fn))}
        try:
            return fn(**kw)
        except Exception as exc:  # noqa: BLE001 - the user's factory failing is named
            raise PluginError(f"model {self.name!r}: {self.text}({', '.join(kw)}) raised "
                              f"{type(exc).__name__}: {exc}") from exc

    @property
    def recreatable(self) -> bool:
        """Can config.toml alone build this model again (in another process or session)?"""
        if self.kind in ("zoo", "reference"):
            return True
        return self.kind == "estimator" and plain_params(self.params) and importable(type(self.obj))

    def record(self) -> dict:
        """What config.toml and run.json keep about this model."""
        d = {"kind": self.kind, "text": self.text}
        if self.source_sha256:
            d["source_sha256"] = self.source_sha256
        if self.kind == "estimator":
            d["params"] = {k: v for k, v in self.params.items() if plain_params({k: v})}
            d["recreatable"] = self.recreatable
        if self.search_space:
            d["search_space"] = {k: list(v) if isinstance(v, tuple) else v
                                 for k, v in self.search_space.items()}
        return d

    def identity(self) -> dict:
        """What makes this model's numbers: text, parameters and the hash of its source."""
        d = {"kind": self.kind, "text": self.text, "source": self.source_sha256}
        if self.kind == "estimator":
            d["params"] = repr(sorted(self.params.items(), key=lambda kv: kv[0]))
        if self.search_space:
            d["space"] = repr(sorted(self.search_space.items()))
        return d


def _is_estimator(obj) -> bool:
    return hasattr(obj, "fit") and hasattr(obj, "predict") and hasattr(obj, "get_params") \
        and not inspect.isclass(obj)


def resolve_model(name: str, value, search_space: dict | None = None) -> ModelEntry:
    """One entry from a zoo name, a reference, an estimator instance or a factory."""
    space = dict(search_space or {})
    if isinstance(value, str):
        if value in ZOO or value.startswith("stack"):
            spec = get_model_spec(value)
            return ModelEntry(name, "zoo", value, search_space=space or dict(spec.search_space),
                              is_baseline=spec.is_baseline)
        if value.startswith("model:") and value[6:] in ZOO:  # config.toml spelling of a renamed zoo model
            return resolve_model(name, value[6:], space)
        if is_reference(value) or value in _entry_point_names():
            r = resolve(value, "model")
            return ModelEntry(name, "reference", value, obj=r.obj, search_space=space,
                              source_sha256=r.source_sha256)
        get_model_spec(value)  # raises the KeyError listing the zoo
    if _is_estimator(value) or callable(value):
        ship_by_value(value)
    if _is_estimator(value):
        return ModelEntry(name, "estimator", qualified_name(value), obj=value, search_space=space,
                          source_sha256=source_sha256(value), params=value.get_params(deep=False))
    if callable(value):
        return ModelEntry(name, "factory", qualified_name(value), obj=value, search_space=space,
                          source_sha256=source_sha256(value))
    raise PluginError(f"model {name!r}: {value!r} is neither a zoo name, a reference "
                      "'module:attr', a scikit-learn estimator nor a factory")


def _entry_point_names() -> set[str]:
    return set(entry_points("model"))


def resolve_models(models, search_spaces: dict | None = None) -> dict[str, ModelEntry]:
    """``name -> ModelEntry`` from a list (names and objects) or a ``name -> model`` dict."""
    spaces = dict(search_spaces or {})
    if isinstance(models, dict):
        items = list(models.items())
    else:
        items = []
        for m in models:
            items.append((m if isinstance(m, str) else _default_name(m), m))
    out: dict[str, ModelEntry] = {}
    for name, value in items:
        if name in out:
            raise PluginError(f"two models are named {name!r}; pass a dict to name them")
        if isinstance(value, str) and is_reference(value) and name == value:
            name = value.rpartition(":")[2]  # 'my_models:make_model' -> 'make_model'
            if name in out:
                raise PluginError(f"two models are named {name!r}; pass a dict to name them")
        out[name] = resolve_model(name, value, spaces.get(name))
    return out


def _default_name(obj) -> str:
    target = obj if inspect.isfunction(obj) or inspect.isclass(obj) else type(obj)
    return getattr(target, "__name__", type(obj).__name__)


def check_task_type(entry: ModelEntry, task_type: str, seed: int = 0) -> None:
    """A classifier on a regression task (or the reverse) fails here, named, not in a fold."""
    if entry.kind == "zoo":
        return
    est = entry.build(task_type, seed)
    if task_type == "classification" and is_regressor(est) and not is_classifier(est):
        raise PluginError(f"model {entry.name!r} ({entry.text}) is a regressor; the task is "
                          "classification")
    if isinstance(est, TransformedTargetRegressor):
        est = est.regressor
    if task_type == "regression" and is_classifier(est):
        raise PluginError(f"model {entry.name!r} ({entry.text}) is a classifier; the task is "
                          "regression")
