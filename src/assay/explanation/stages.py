"""Stage lines for long commands: a line as each stage starts, one as it ends with its time, and
a closing summary. ``assay explain`` took minutes in silence; now it says what it is doing."""
from __future__ import annotations

import time
from contextlib import contextmanager

from ..ui import say


class Stages:
    """Times named stages (summed when a stage repeats, e.g. once per fold) and prints them.

    ``enabled=False`` keeps the timings but prints nothing (workers of a parallel run, where the
    parent prints each fold's timings when it comes back).
    """

    def __init__(self, prefix: str = "  ", enabled: bool = True):
        self.prefix = prefix
        self.enabled = enabled
        self.seconds: dict[str, float] = {}
        self.t0 = time.perf_counter()

    @contextmanager
    def __call__(self, name: str, what: str = ""):
        if self.enabled:
            say(f"{self.prefix}{name}{': ' + what if what else ''} ...")
        t0 = time.perf_counter()
        yield
        dt = time.perf_counter() - t0
        self.seconds[name] = self.seconds.get(name, 0.0) + dt
        if self.enabled:
            say(f"{self.prefix}{name} done ({dt:.1f} s)")

    def merge(self, seconds: dict[str, float], label: str = "") -> None:
        """Add timings measured elsewhere (a worker's fold); print them in one line if asked."""
        for k, v in seconds.items():
            self.seconds[k] = self.seconds.get(k, 0.0) + v
        if label and self.enabled:
            say(f"{self.prefix}{label}: " + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))

    def summary(self, where, n_files: int | None = None) -> str:
        """The closing lines: every stage with its total time, the wall time and the outputs."""
        total = time.perf_counter() - self.t0
        width = max((len(k) for k in self.seconds), default=0)
        # Folds run in parallel: stage times are summed over processes, so shares are of that sum
        # (shares of the wall time added up to more than 100%).
        busy = sum(self.seconds.values())
        lines = [f"{len(self.seconds)} stages in {total:.1f} s wall ({busy:.1f} s summed over processes; "
                 "share of that sum):"]
        lines += [f"{self.prefix}{k:<{width}}  {v:7.1f} s  {v / busy:4.0%}" if busy else f"{k}"
                  for k, v in self.seconds.items()]
        files = f"{n_files} files " if n_files is not None else ""
        lines.append(f"{files}written to {where}")
        return "\n".join(lines)
