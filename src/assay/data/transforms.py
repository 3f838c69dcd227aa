"""Target transforms: fit on a transformed target, predict back in the target's own units.

A log transform suits a positive target spanning orders of magnitude. It is not a cleaning step
(cleaning changes the training rows only, so the model would predict log values that are then
scored against raw test targets); it wraps the model instead, e.g. scikit-learn's
``TransformedTargetRegressor(regressor, func=t.forward, inverse_func=t.inverse,
check_inverse=False)``. It has no fitted parameters, so nothing leaks from test rows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InvalidDataError

__all__ = ["LogTarget", "TARGET_TRANSFORMS"]


@dataclass(frozen=True)
class LogTarget:
    """y -> log10(y + shift) and back; every y + shift must be > 0."""

    shift: float = 0.0
    name = "log10"

    def check(self, y, ids=None) -> None:
        """InvalidDataError naming the rows whose target has no logarithm."""
        y = np.asarray(y, dtype=float)
        bad = np.flatnonzero(~(y + self.shift > 0))
        if len(bad):
            names = list(ids) if ids is not None else [f"row-{i + 1}" for i in range(len(y))]
            raise InvalidDataError(
                f"the log10 target transform needs target + {self.shift:g} > 0; "
                f"{len(bad)} rows are not (use shift= or another transform).",
                [(int(i) + 1, "target", f"{y[i]:g} + {self.shift:g} <= 0 [id {names[i]!r}]")
                 for i in bad])

    def forward(self, y):
        return np.log10(np.asarray(y, dtype=float) + self.shift)

    def inverse(self, z):
        return np.power(10.0, np.asarray(z, dtype=float)) - self.shift


TARGET_TRANSFORMS = {"log10": LogTarget}
