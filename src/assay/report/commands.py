"""CLI commands of the report stage; ``register(app)`` adds them to the main Typer app.

``assay report RUN``   report.html + report.ipynb + submission/ (Matbench tasks)
``assay slides RUN``   slides.html and slides.pptx
``assay compare RUN1 RUN2 ... -o compare.html``
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import List, Optional

import typer

from ..store.atomic import atomic_write_text
from ..ui import console
from .builder import build_report
from .compare import write_compare
from .notebook import execute_notebook, write_notebook
from .run_data import RunFolderError
from .slides import write_slides
from .submission import write_submission


def _human(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def make_report(run_dir, notebook: bool = True, submission: bool = True, execute: bool = False) -> dict:
    """Everything ``assay report`` writes; returns {artifact: path} plus timings."""
    t0 = time.perf_counter()
    b, sections, doc = build_report(run_dir)
    out = {"report": b.run.path / "report.html"}
    atomic_write_text(out["report"], doc)
    out["report_seconds"] = time.perf_counter() - t0
    if notebook:
        out["notebook"] = write_notebook(b, sections)
        if execute:
            try:
                import nbformat

                nb = execute_notebook(out["notebook"])
            except ImportError as exc:
                raise ValueError(f"--execute needs nbformat, nbclient and ipykernel ({exc}); "
                                 "install them with: pip install nbclient ipykernel") from None
            atomic_write_text(out["notebook"], nbformat.writes(nb))
    if submission and b.run.task is not None and b.run.split == "official":
        out["submission"] = write_submission(b.run, notebook=out.get("notebook"))
    elif submission:
        out["submission_skipped"] = ("own data: no Matbench submission" if b.run.task is None
                                     else f"split '{b.run.split}' is not the official one")
    out["seconds"] = time.perf_counter() - t0
    return out


def register(app) -> None:
    def _fail(exc: Exception) -> None:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2)

    @app.command()
    def report(run_dir: Path = typer.Argument(..., help="A finished run folder"),
               notebook: bool = typer.Option(True, help="Also write report.ipynb"),
               submission: bool = typer.Option(True, help="Also write the Matbench submission/ folder"),
               execute: bool = typer.Option(False, help="Execute the notebook (reads the run's cached features and folds; fits only the YOUR MODEL HERE cell's model, about a minute)")):
        """Write RUN/report.html, RUN/report.ipynb and RUN/submission/ from a finished run."""
        try:
            out = make_report(run_dir, notebook=notebook, submission=submission, execute=execute)
        except (RunFolderError, ValueError) as exc:
            _fail(exc)
        p = out["report"]
        console.print(f"report: {p} ({_human(p.stat().st_size)}, {out['report_seconds']:.1f} s)")
        if "notebook" in out:
            console.print(f"notebook: {out['notebook']}")
        if "submission" in out:
            console.print(f"Matbench submission: {out['submission']} (fill in the authors in info.json)")
        elif "submission_skipped" in out:
            console.print(f"no submission: {out['submission_skipped']}")
        print(p)

    @app.command()
    def slides(run_dir: Path = typer.Argument(..., help="A finished run folder"),
               output: Optional[Path] = typer.Option(None, "-o", help="Default RUN/slides.html")):
        """Write a five-minute talk (RUN/slides.html and slides.pptx, with speaker notes)."""
        try:
            p = write_slides(run_dir, output)
        except (RunFolderError, ValueError) as exc:
            _fail(exc)
        pp = p.with_suffix(".pptx")
        console.print(f"slides: {p} ({_human(p.stat().st_size)}) and {pp} ({_human(pp.stat().st_size)})")
        print(p)

    @app.command()
    def compare(runs: List[Path] = typer.Argument(..., help="Two or more finished run folders"),
                output: Path = typer.Option(Path("compare.html"), "-o", help="Output HTML file"),
                metric: Optional[str] = typer.Option(None, help="Metric (default: the first run's primary)")):
        """Compare runs side by side, with paired fold differences when the folds are the same."""
        try:
            p, info = write_compare(runs, output, metric)
        except (RunFolderError, ValueError) as exc:
            _fail(exc)
        if not all(info["same_folds"].values()):
            console.print("[yellow]folds differ between runs: no paired differences for "
                          + ", ".join(k for k, v in info["same_folds"].items() if not v) + "[/]")
        console.print(f"compare: {p} ({_human(p.stat().st_size)})")
        print(p)
