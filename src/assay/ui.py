"""Console output shared by every command: messages and progress bars (quiet when asked)."""
from __future__ import annotations

from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import sys
import time

# Tables stay readable when output goes to a file or CI log, where rich would assume 80 columns.
console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
_quiet = False


def set_quiet(value: bool) -> None:
    global _quiet
    _quiet = value


def say(msg: str) -> None:
    if not _quiet:
        console.print(msg)


@contextmanager
def progress_bar(enabled: bool, description: str, total: int | None = 1):
    """Yields ``tick(n=1)``; draws a bar only when enabled and not quiet.

    When output is not a terminal (a log file, CI, a notebook) a bar would only show when the
    stage ends, so each tick prints a line with the count, elapsed time and an ETA instead.
    """
    if not enabled or _quiet:
        yield lambda n=1: None
        return
    if not console.is_terminal:
        state = {"done": 0, "t0": time.perf_counter()}

        def tick(n=1):
            state["done"] += n
            el = time.perf_counter() - state["t0"]
            d = state["done"]
            eta = f", ETA {el / d * (total - d):.0f} s" if total and d < total else ""
            console.print(f"{description}: {d}/{total or '?'} done, {el:.0f} s{eta}", highlight=False)

        yield tick
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=False) as bar:
        job = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(job, n)
