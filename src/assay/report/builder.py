"""``assay report RUN``: one self-contained HTML report of a finished run.

Every number and every sentence of judgement is derived from the run folder; where a step's
artifact is absent the report says plainly that the step was not run, and how to run it.
The sections live in :mod:`assay.report.sections`, one module each; this module runs them in
order, keeps the figures (the slides reuse them) and the facts, and renders the page.
"""
from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ..store.atomic import atomic_write_text
from . import evidence
from .facts import ReportFacts
from .html import CSS, data_uri, esc, figure, file_uri
from .run_data import RunData
from .sections import (SECTIONS, TITLES, beyond, checklist, data, declarations, feature_distributions,
                       interpretation, leaderboard, model_choice, outliers, problem, reproducibility,
                       training)

#: section id -> the function that adds it
BUILDERS = {"problem": problem.build,
            "data": lambda b: (data.build(b), feature_distributions.build(b)), "model-choice": model_choice.build,
            "training": training.build, "interpretation": interpretation.build,
            "leaderboard": leaderboard.build, "checklist": checklist.build,
            "outliers": outliers.build, "beyond": beyond.build,
            "reproducibility": reproducibility.build,
            "declarations": declarations.build}


@dataclass
class Section:
    id: str
    title: str
    html: str
    md: list[str] = field(default_factory=list)  # plain findings, reused by the notebook


@dataclass
class Figure:
    id: str
    uri: str
    caption: str


class ReportBuilder:
    """Builds the sections of one run's report; figures are kept for the slides to reuse."""

    def __init__(self, run: RunData | str | Path):
        self.run = run if isinstance(run, RunData) else RunData(run)
        self.figures: dict[str, Figure] = {}
        self.sections: dict[str, Section] = {}
        self.facts = ReportFacts()  # numbers the slides / checklist / notebook reuse

    def build(self) -> list[Section]:
        for sid, _ in SECTIONS:
            BUILDERS[sid](self)
        return [self.sections[sid] for sid, _ in SECTIONS]

    # -- what the sections call ------------------------------------------------------------
    def add(self, sid: str, body: str, md: list[str] | None = None) -> None:
        self.sections[sid] = Section(sid, TITLES[sid], body, md or [])

    def fig(self, fig_id: str, data, caption: str) -> str:
        """Embed a figure (PNG bytes, or a file of the run) and remember it for the slides."""
        if data is None:
            return ""
        uri = file_uri(data) if isinstance(data, Path) else data_uri(data)
        self.figures[fig_id] = Figure(fig_id, uri, caption)
        return figure(fig_id, uri, caption)

    @property
    def rp(self) -> str:
        return esc(str(self.run.path))

    def mean(self, model: str, metric: str | None = None) -> tuple[float, float]:
        """Fold mean and std of ``model`` from summary.json (NaN when absent)."""
        s = self.run.summary.get(model, {}).get(metric or self.run.primary_metric, {})
        return s.get("mean", float("nan")), s.get("std", float("nan"))

    def better(self, a: float, b: float) -> bool:
        return a > b if self.run.higher_is_better else a < b

    # -- shared evidence, read once --------------------------------------------------------
    @cached_property
    def controls(self) -> dict[str, tuple[float, float]]:
        return evidence.controls(self.run)

    @cached_property
    def paired(self) -> list[dict]:
        return evidence.paired(self.run)

    @cached_property
    def curves(self) -> dict | None:
        return evidence.normalise_learning_curve(self.run.learning_curve)

    @cached_property
    def duplicates_across_folds(self) -> tuple[int, int] | None:
        return evidence.duplicates_across_folds(self.run)


def render(builder: ReportBuilder, sections: list[Section]) -> str:
    r = builder.run
    title = f"{r.run_id}: {r.target_label}" + (f" — {r.task.name}" if r.task else "")
    toc = "".join(f'<li><a href="#{s.id}">{esc(s.title)}</a></li>' for s in sections)
    body = "".join(f'<section class="sec" id="{s.id}" data-section="{s.id}"><h2>{i}. {esc(s.title)}</h2>'
                   f"{s.html}</section>" for i, s in enumerate(sections, 1))
    now = _dt.datetime.now().isoformat(timespec="seconds")
    n_fig = len(builder.figures)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="generator" content="assay report">
<meta name="assay-figures" content="{n_fig}">
<title>{esc(title)}</title>
<style>{CSS}</style></head>
<body><main>
<header class="top"><div class="sub">assay report · run <code>{esc(r.run_id)}</code></div>
<h1>{esc(r.target_label)}{(' — ' + esc(r.task.name)) if r.task else ''}</h1>
<div class="sub">{esc(r.dataset.get('n_rows'))} rows · {esc(r.task_type)} · features {esc(r.preset)} ·
models {esc(', '.join(r.models))} · primary {esc(r.primary_model)} · split {esc(r.split)}</div></header>
<nav class="toc"><ol>{toc}</ol></nav>
{body}
<footer>Generated {esc(now)} by assay report from <code>{esc(str(r.path))}</code>. Every number above is read
or derived from that run folder. {n_fig} figures embedded.</footer>
</main></body></html>"""


def build_report(run_dir) -> tuple[ReportBuilder, list[Section], str]:
    b = ReportBuilder(run_dir)
    sections = b.build()
    return b, sections, render(b, sections)


def write_report(run_dir, out: Path | None = None) -> Path:
    """Write ``RUN/report.html`` (or ``out``) and return its path."""
    t0 = time.perf_counter()
    b, sections, doc = build_report(run_dir)
    out = Path(out) if out else b.run.path / "report.html"
    atomic_write_text(out, doc)
    b.facts.seconds = time.perf_counter() - t0
    return out
