"""Any matminer featuriser (or any ``BaseFeaturizer``) inside assay's featuriser contract.

By name (``matminer:DensityFeatures``, optionally ``from_preset``) or as an instance the user
built. Rows run one at a time through the default batch hook: errors become per-row reasons,
not exceptions, and parallelism is joblib over chunks (matminer's own multiprocessing pool is
avoided). Labels are prefixed with the class name so two featurisers never share a column name.
"""
from __future__ import annotations

import importlib

from matminer.featurizers.base import BaseFeaturizer

from .base import Featurizer, describe_instance, instance_identity

__all__ = ["MatminerAdaptor", "matminer_class"]

MODULES = ("composition", "structure", "site", "conversions", "bandstructure", "dos")


def matminer_class(spec: str):
    """The matminer featuriser class called ``spec`` (searched in matminer's featuriser modules)."""
    for mod in MODULES:
        cls = getattr(importlib.import_module(f"matminer.featurizers.{mod}"), spec, None)
        if cls is not None:
            return cls
    raise KeyError(f"no matminer featurizer called {spec!r}")


def _kind(cls) -> str | None:
    """What a matminer class featurises, from the module it lives in (None: inputs as given)."""
    mod = cls.__module__
    if mod.startswith("matminer.featurizers.composition"):
        return "composition"
    if mod.startswith("matminer.featurizers.structure"):
        return "structure"
    return None


class MatminerAdaptor(Featurizer):
    """Run a matminer featuriser, given by name (``preset`` calls ``from_preset``) or as an instance."""

    MODULES = MODULES

    def __init__(self, spec, preset: str | None = None, **kwargs):
        if isinstance(spec, BaseFeaturizer):
            self._fz = spec
            spec = type(spec).__name__
        else:
            if not isinstance(spec, str):
                raise TypeError(f"MatminerAdaptor needs a featuriser name or instance, not {type(spec).__name__}")
            self._fz = None
            spec = spec.removeprefix("matminer:")
        self.spec = spec
        self.preset = preset
        self.kwargs = kwargs
        self._instance = self._fz is not None

    @property
    def name(self) -> str:
        return f"matminer:{self.spec}" if not self._instance else describe_instance(self._fz)

    @property
    def featurizer(self):
        if self._fz is None:
            cls = matminer_class(self.spec)
            self._fz = cls.from_preset(self.preset, **self.kwargs) if self.preset else cls(**self.kwargs)
        return self._fz

    @property
    def input_kind(self) -> str | None:
        if self._instance:
            return _kind(type(self._fz))
        try:
            return _kind(matminer_class(self.spec))
        except KeyError:
            return None

    def get_params(self, deep: bool = True) -> dict:
        return {"spec": self._fz if self._instance else self.spec, "preset": self.preset, **self.kwargs}

    def cache_name(self) -> str:
        if not self._instance:
            return f"matminer:{self.spec}"
        cls = type(self._fz)
        return f"instance:{cls.__module__}.{cls.__qualname__}"

    def cache_params(self) -> dict | None:
        if self._instance:
            return instance_identity(self._fz)
        import matminer

        return {"preset": self.preset, "kwargs": self.kwargs, "matminer": matminer.__version__}

    def featurize(self, x):
        return self.featurizer.featurize(x)

    def feature_labels(self):
        return [f"{self.spec} {lab}" for lab in self.featurizer.feature_labels()]

    def citations(self):
        return list(self.featurizer.citations())

    def implementors(self):
        return list(self.featurizer.implementors())

    def featurize_many_with_errors(self, entries, n_jobs: int = 1):
        """(X, {row: reason}) for the entries as given."""
        res = self.featurize_batch(list(entries), n_jobs=n_jobs)
        return res.X, {i: e for i, e in enumerate(res.errors) if e}
