"""The few numbers the report's sections hand on to the checklist, the slides and the notebook."""
from __future__ import annotations

from dataclasses import dataclass, field

from .checklist import Item


@dataclass
class ReportFacts:
    """Filled while the sections are built; a field stays None (or empty) when its section
    had nothing to say (e.g. no leaderboard for the user's own data)."""

    lb_best: tuple[str, float, float] | None = None  # best leaderboard entry: (algorithm, mean, std)
    rank: tuple[int, int] | None = None  # the primary model's (rank, number of entries)
    checklist: list[Item] = field(default_factory=list)  # the answered checklist items
    recipe: dict | None = None  # the task's recipe when the run used it (evidence.recipe)
    thresholds: dict | None = None  # model -> per-fold thresholds and their gain (evidence.threshold_choice)
    control_readings: dict = field(default_factory=dict)  # control -> evidence.control_reading
    command: str | None = None  # the command that reproduces the run
    seconds: float | None = None  # wall time of write_report
