"""CLI commands of the discovery stage; ``register(app)`` adds them to the main Typer app.

``assay learn TASK_OR_DATA_OR_RUN``  simulated active learning -> RUN/learn/
``assay screen RUN [candidates.csv]`` ranked next experiments -> RUN/screen/
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import AssayError
from ..ui import console, set_quiet
from .acquisition import DEFAULT_STRATEGIES, STRATEGIES
from .learn import LearnSettings, run_learn, summary_lines
from .screen import ACQUISITIONS, screen as screen_run


def _fail(exc: Exception) -> None:
    msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    console.print(f"[red]error:[/] {escape(str(msg))}")
    raise typer.Exit(2)


def register(app) -> None:
    @app.command()
    def learn(
        what: str = typer.Argument(..., help="A Matbench task (expt_gap), your data file, or a finished run folder"),
        strategies: str = typer.Option(",".join(DEFAULT_STRATEGIES),
                                       help="Comma-separated: " + ", ".join(STRATEGIES)),
        initial: int = typer.Option(50, help="Randomly chosen rows measured before the first round"),
        batch: int = typer.Option(10, help="Rows each strategy picks per round"),
        rounds: int = typer.Option(20, help="Rounds of pick, measure, retrain"),
        repeats: int = typer.Option(5, help="Repeats (each its own test set and initial rows)"),
        goal: Optional[str] = typer.Option(None, help="top1% (default), bottom5%, above:<v>, below:<v>; "
                                           "class:1 or class:<label> for classification"),
        model: str = typer.Option("et", help="Any zoo model or module:attr; 'primary' = a run folder's "
                                  "primary model. Forests give their per-tree spread; others a "
                                  "bootstrap ensemble of 5 (slower)"),
        test_size: float = typer.Option(0.2, help="Held-out test fraction per repeat"),
        target: Optional[str] = typer.Option(None, help="Target column of your own data"),
        data: Optional[Path] = typer.Option(None, help="Explicit data file for a Matbench task"),
        task_type: Optional[str] = typer.Option(None, help="regression or classification (own data)"),
        features: str = typer.Option("auto", help="Feature preset"),
        seed: int = typer.Option(0),
        out_dir: str = typer.Option("runs", help="Where the learn folder goes (a run folder: RUN/learn/)"),
        n_jobs: int = typer.Option(1, "--n-jobs", "-j", help="Strategy x repeat jobs in parallel"),
        quiet: bool = typer.Option(False, "--quiet", "-q"),
    ):
        """Simulate active learning on data you have: does a strategy find the goal materials, or a
        good model, with fewer experiments than random picking?"""
        set_quiet(quiet)
        try:
            s = LearnSettings(strategies=tuple(x.strip() for x in strategies.split(",") if x.strip()),
                              initial=initial, batch=batch, rounds=rounds, repeats=repeats,
                              test_size=test_size, goal=goal, seed=seed, model=model)
            folder, sim = run_learn(what, s, data=data, target=target, task_type=task_type,
                                    features=features, out_dir=out_dir, n_jobs=n_jobs,
                                    progress=not quiet)
        except (AssayError, KeyError, ValueError, FileNotFoundError) as exc:
            _fail(exc)
        for line in summary_lines(sim):
            console.print(escape(line))
        console.print(f"learn: {folder.file('learn')} ({sim.seconds:.0f} s simulation)")
        print(folder.file("learn"))

    @app.command()
    def screen(
        run_dir: Path = typer.Argument(..., help="A finished run folder"),
        candidates: Optional[Path] = typer.Argument(None, help="CSV/TSV/JSON/parquet with a formula "
                                                    "(or structure) column"),
        goal: str = typer.Option("max", help="max, min (regression); class or class:<label>"),
        n: int = typer.Option(20, help="How many to show (all are written to RUN/screen/ranked.csv)"),
        acquisition: str = typer.Option("prediction", help=", ".join(ACQUISITIONS)),
        generate: Optional[str] = typer.Option(None, help="'substitutions': candidates from the "
                                               "training materials by element substitution"),
        new_elements: bool = typer.Option(False, help="Let substitutions bring in elements the "
                                          "data does not contain (all then out of domain)"),
        max_generated: int = typer.Option(2000, help="At most this many substitution candidates"),
        input_column: Optional[str] = typer.Option(None, help="The candidates' formula/structure column"),
        seed: int = typer.Option(0),
        quiet: bool = typer.Option(False, "--quiet", "-q"),
    ):
        """Rank candidate materials for the next experiments, with intervals, domain flags and reasons;
        rows that cannot be featurised are refused by row (RUN/screen/refused.csv)."""
        set_quiet(quiet)
        try:
            res = screen_run(run_dir, candidates, goal=goal, n=n, acquisition=acquisition,
                             generate=generate, input_column=input_column,
                             max_generated=max_generated, seed=seed, new_elements=new_elements)
        except (AssayError, KeyError, ValueError, FileNotFoundError) as exc:
            _fail(exc)
        t = Table(title=f"top {n} by {acquisition} (goal {goal})")
        for col in ("rank", "candidate", "source", "reason"):
            t.add_column(col, overflow="fold")
        for _, r in res.top(n).iterrows():
            t.add_row(str(r["rank"]), escape(str(r["input"] if not hasattr(r["input"], "formula")
                                                 else r["input"].formula)),
                      escape(str(r["source"])), escape(str(r["reason"])))
        console.print(t)
        if len(res.refused):
            console.print(f"[yellow]refused {len(res.refused)} candidates that cannot be featurised:[/]")
            for _, r in res.refused.iterrows():
                console.print(f"  {escape(str(r['source']))}: {escape(repr(r['input']))}: "
                              f"{escape(str(r['reason']))[:300]}")
        console.print(f"{res.info['n_ranked']} ranked ({res.info['n_out_of_domain']} out of domain) -> "
                      f"{res.paths['ranked']}; Pareto plot {res.paths['pareto']}")
        print(res.paths["ranked"].parent)
