"""The command line: a thin face over the same core the Python API uses."""
from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape
from rich.table import Table

from .data.leaderboard import task_leaderboard
from .data.tasks import TASKS
from .discovery import commands as discovery_commands
from .errors import AssayError
from .evaluation.splitters import SPLITS
from .explanation import commands as explanation_commands
from .explanation.predict import predict_file, spreadsheet_safe
from .models.zoo import ZOO, available_models
from .report import commands as report_commands
from .run.config import RunConfig
from .run.experiment import Experiment
from .run.recipes import RECIPES, recipe_config
from .store.atomic import atomic_write_text
from .store.database import RunDatabase
from .ui import console, set_quiet

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="assay: build, test and report ML models for materials properties.")


def _fail(exc: Exception) -> None:
    """The one error printer: the message is the user's text too (file names, cells), so it is
    escaped, never read as rich markup."""
    msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    console.print(f"[red]error:[/] {escape(str(msg))}")
    raise typer.Exit(2)


@app.command()
def tasks():
    """List the 13 Matbench v0.1 tasks."""
    t = Table(title="Matbench v0.1 tasks")
    for col in ("task", "input", "type", "target", "unit", "rows", "MAD", "bundled", "best on leaderboard"):
        t.add_column(col)
    for task in TASKS.values():
        lb = task_leaderboard(task.name)
        best = f"{lb.iloc[0]['algorithm']}: {lb.iloc[0]['mean']:.4g}" if len(lb) else "-"
        t.add_row(task.short, task.input_type, task.task_type, task.target, task.unit,
                  f"{task.n_samples:,}", f"{task.mad:.4g}" if task.mad else "-",
                  "yes" if task.bundled else "download", best)
    console.print(t)


DATA_SUFFIXES = {".csv", ".tsv", ".txt", ".json", ".jsonl", ".parquet", ".pq", ".gz", ".bz2",
                 ".xz", ".zip"}


def _names(v: str | None) -> list[str] | None:
    return None if v is None else [] if v.strip() == "none" else \
        [x.strip() for x in v.split(",") if x.strip()]


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _cleaning(steps: list[str]) -> list[dict]:
    out = []
    for s in steps:
        try:
            d = json.loads(s)
        except ValueError as exc:
            raise AssayError(f"--clean {s!r} is not JSON ({exc}); e.g. "
                             '\'{"step": "remove_outliers", "method": "robust"}\'') from None
        out.extend(d if isinstance(d, list) else [d])
    return out


@app.command()
def run(
    whats: List[str] = typer.Argument(..., metavar="WHAT...", help="A Matbench task (expt_gap), a config.toml, "
                                      "or your data file(s): several files are merged (see --merge)"),
    merge: Optional[str] = typer.Option(None, help="Several data files: keep (all rows), mean (one row per "
                                        "material) or prefer:<file stem>; every choice is logged"),
    data: Optional[Path] = typer.Option(None, help="Explicit data file for a Matbench task"),
    target: Optional[str] = typer.Option(None, help="Target column of your own data"),
    input_column: Optional[str] = typer.Option(None, help="Formula or structure column of your data"),
    id_column: Optional[str] = typer.Option(None, help="Id column of your data (default: id, mpid, jid, "
                                            "material_id, ... when present)"),
    task_type: Optional[str] = typer.Option(None, help="regression or classification (text labels such "
                                            "as metal/nonmetal need classification)"),
    structures_dir: Optional[Path] = typer.Option(None, help="Folder of CIF/POSCAR files named by the id column"),
    drop_invalid: bool = typer.Option(False, "--drop-invalid", help="Drop rows with a missing or invalid "
                                      "target or input (listed in dataset.json) instead of stopping"),
    target_transform: Optional[str] = typer.Option(None, help="log10: fit models on log10(target + shift), "
                                                   "predict in the target's units"),
    target_shift: Optional[float] = typer.Option(None, help="Shift added before the log10 transform"),
    clip_features: Optional[float] = typer.Option(None, "--clip-features", help="Winsorise every feature of "
                                                  "the non-baseline models at its (q, 1-q) training-fold "
                                                  "quantiles, e.g. 0.01; clipped counts are logged per fold"),
    clean: Optional[List[str]] = typer.Option(None, help="A cleaning step as JSON, applied to training rows, "
                                              "e.g. '{\"step\": \"remove_outliers\", \"method\": \"robust\"}' "
                                              "(repeatable)"),
    features: Optional[str] = typer.Option(None, help="Feature preset, or your featuriser: "
                                           "module:attr or path/file.py:attr (comma-separate several)"),
    models: Optional[str] = typer.Option(None, help="Comma-separated models: zoo names (`assay models`) "
                                         "and your own as module:attr or path/file.py:attr"),
    primary: Optional[str] = typer.Option(None, help="The model to report/submit (declared up front)"),
    split: Optional[str] = typer.Option(None, help="official, kfold, stratified, loo, montecarlo, group, "
                                        "cluster, loco (see `assay splits`), column:<fold column>, or "
                                        "your splitter as module:attr"),
    n_folds: Optional[int] = typer.Option(None, "--n-folds", help="Folds (or Monte Carlo repeats)"),
    order_column: Optional[str] = typer.Option(None, "--order-column", help="With --split forward: the column "
                                               "that orders the rows in time (e.g. year)"),
    extra_splits: Optional[str] = typer.Option(None, "--extra-splits",
                                               help="Also run these splits beside the main one, e.g. loco,cluster"),
    search: Optional[str] = typer.Option(None, help="Nested hyperparameter search: none, grid, random, tpe"),
    trials: Optional[int] = typer.Option(None, help="Search budget: trials per model per outer fold"),
    search_seconds: Optional[float] = typer.Option(None, "--search-seconds",
                                                   help="Search budget: seconds per model per outer fold"),
    search_models: Optional[str] = typer.Option(None, "--search-models", help="Models to tune (default: non-baselines)"),
    controls: Optional[str] = typer.Option(None, help="random-features,scrambled-target, or none"),
    control_models: Optional[str] = typer.Option(None, "--control-models",
                                                 help="Models run beside controls (default: the primary; 'all')"),
    learning_curve: Optional[bool] = typer.Option(None, "--learning-curve/--no-learning-curve"),
    threshold: Optional[str] = typer.Option(None, help="Classification: balanced_accuracy (tuned in training folds) or none"),
    cluster: Optional[str] = typer.Option(None, help="Dask scheduler address, e.g. tcp://host:8786"),
    seed: Optional[int] = typer.Option(None),
    n_jobs: Optional[int] = typer.Option(None, "--n-jobs", "-j", help="Parallel processes"),
    threads: Optional[int] = typer.Option(None, help="Threads inside each process (torch, BLAS); default 1"),
    out: Optional[Path] = typer.Option(None, help="Folder for run folders (default ./runs)"),
    name: Optional[str] = typer.Option(None, help="Run name (a plain folder name; default: task + digest)"),
    force: bool = typer.Option(False, help="Discard finished folds and recompute"),
    budget: str = typer.Option("default", help="Matbench tasks: fast, default or best (adds a TPE search "
                               "of the recipe's model inside the training folds)"),
    recipe: bool = typer.Option(True, "--recipe/--no-recipe",
                                help="Matbench tasks: use the task's recipe when no --features/--models/--primary"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
):
    """Run the whole workflow on a task, a config file or your own data.

    A Matbench task with no --features/--models/--primary runs its recipe (`assay recipes`).
    Your own model, featuriser or splitter: pass an import reference (module:attr, with the
    current folder importable, or path/to/file.py:attr) wherever a name is accepted.
    """
    set_quiet(quiet)
    signal.signal(signal.SIGTERM, _interrupt)  # recorded as interrupted; workers are stopped
    what = whats[0]
    try:
        if len(whats) > 1:
            cfg = RunConfig(data=list(whats), target=target, input_column=input_column, id_column=id_column,
                            task_type=task_type, drop_invalid=drop_invalid, merge=merge or "keep",
                            structures_dir=str(structures_dir) if structures_dir else None)
        elif what.endswith(".toml"):
            cfg = RunConfig.from_toml(what)
        elif Path(what).suffix.lower() in DATA_SUFFIXES or Path(what).is_dir() or Path(what).is_file():
            cfg = RunConfig(data=what, target=target, input_column=input_column, id_column=id_column,
                            task_type=task_type, drop_invalid=drop_invalid,
                            structures_dir=str(structures_dir) if structures_dir else None)
        elif recipe and features is None and models is None and primary is None:
            cfg = recipe_config(what, budget, data=str(data) if data else None)
        else:
            cfg = RunConfig(task=what, data=str(data) if data else None)
        if order_column:
            if split not in (None, "forward"):
                raise AssayError("--order-column goes with --split forward")
            split = f"forward:{order_column}"
        feats = _names(features)
        overrides = {"features": (feats[0] if feats and len(feats) == 1 else feats) if features else None,
                     "primary_model": primary, "split": split, "seed": seed,
                     "n_jobs": n_jobs, "threads": threads, "out_dir": str(out) if out else None,
                     "name": name, "n_folds": n_folds,
                     "extra_splits": _names(extra_splits), "search": search,
                     "search_trials": trials, "search_seconds": search_seconds,
                     "search_models": _names(search_models), "controls": _names(controls),
                     "control_models": _names(control_models), "learning_curve": learning_curve,
                     "threshold": threshold, "cluster": cluster,
                     "target_transform": target_transform, "target_shift": target_shift,
                     "clip_features": clip_features,
                     "cleaning": _cleaning(clean) if clean else None,
                     "models": (["all"] if models == "all" else _names(models)) if models else None}
        cfg = cfg.replace(**{k: v for k, v in overrides.items() if v is not None})
        result = Experiment(cfg).run(progress=not quiet, force=force)
    except (AssayError, KeyError, ValueError, FileNotFoundError, ImportError, OSError) as exc:
        _fail(exc)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: finished folds are kept; the same command resumes[/]")
        raise typer.Exit(130)
    _print_result(result)


def _print_result(result) -> None:
    t = Table(title=f"{result.run_id}: fold mean ± std")
    metrics = [m for m in next(iter(result.summary.values()))]
    t.add_column("model")
    for m in metrics:
        t.add_column(m)
    for model, s in result.summary.items():
        t.add_row(model + (" *" if model == result.config.primary else ""),
                  *[f"{s[m]['mean']:.4f} ± {s[m]['std']:.4f}" for m in metrics])
    console.print(t)
    rows = (result.comparison or {}).get("rows", [])
    if rows:
        c = Table(title=f"does each model beat its baselines and controls? ({result.comparison['metric']}, "
                        "one-sided paired tests over folds)")
        for col in ("model", "versus", "model mean", "versus mean", "folds better", "p (t)", "p (Wilcoxon)", "verdict"):
            c.add_column(col)
        for r in rows:
            pw = "-" if r["p_wilcoxon"] is None else f"{r['p_wilcoxon']:.3g}"
            pt = "-" if r["p_ttest"] is None else f"{r['p_ttest']:.3g}"
            # escape: control names such as "lgbm [random-features]" are not rich markup
            c.add_row(escape(r["model"]), escape(r["versus"]), f"{r['mean_model']:.4g}", f"{r['mean_versus']:.4g}",
                      f"{r['folds_better']}/{r['n_folds']}", pt, pw, r["verdict"])
        console.print(c)
    console.print(f"run folder: {result.path}  ({result.timings.get('total', 0):.1f} s)")
    print(result.path)


@app.command()
def recipes():
    """The per-task recipes `assay run TASK` uses by default, and why."""
    t = Table(title="recipes (assay run TASK; --budget fast|default|best; --no-recipe for the generic defaults)")
    for col in ("task", "features", "model", "baselines", "fast", "why"):
        t.add_column(col, overflow="fold")
    for task, r in RECIPES.items():
        t.add_row(task, r.features, r.model, ", ".join(r.baselines),
                  f"{r.fast_features or r.features} / {r.fast_model}", r.why)
    console.print(t)


@app.command()
def models():
    """List the model zoo (with `stack:a+b+c` any stack of them)."""
    have = set(available_models())
    t = Table(title="model zoo")
    for col in ("model", "family", "baseline", "tunable", "description"):
        t.add_column(col)
    for name, spec in ZOO.items():
        t.add_row(name + ("" if name in have or name == "logistic" else f" (needs {spec.requires})"),
                  spec.family, "yes" if spec.is_baseline else "", ", ".join(spec.search_space) or "-",
                  spec.description)
    console.print(t)


@app.command()
def splits():
    """List the ways rows can be split into training and test folds."""
    t = Table(title="splits")
    t.add_column("split")
    t.add_column("description")
    for k, v in SPLITS.items():
        t.add_row(k, v)
    console.print(t)


@app.command()
def runs(out: Path = typer.Option(Path("runs"), help="Folder holding the runs"),
         task: Optional[str] = typer.Option(None)):
    """List recorded runs from the run database."""
    db_path = out / "assay.sqlite"
    if not db_path.is_file():
        _fail(AssayError(f"No run database at {db_path}; run `assay run` first."))
    df = RunDatabase(db_path).list_runs(task)
    t = Table(title=f"runs in {out}")
    for col in ("run_id", "task", "status", "started", "wall s", "primary", "metric", "mean ± std"):
        t.add_column(col)
    for r in df.itertuples():
        ms = f"{r.primary_mean:.4f} ± {r.primary_std:.4f}" if r.primary_mean == r.primary_mean and r.primary_mean is not None else "-"
        t.add_row(r.run_id, r.task, r.status, r.started or "", f"{r.wall_seconds or 0:.1f}",
                  r.primary_model or "", r.primary_metric or "", ms)
    console.print(t)


@app.command()
def predict(run_dir: Path = typer.Argument(..., help="A finished run folder"),
            data: Path = typer.Argument(..., help="CSV/JSON/parquet with a formula or structure column"),
            input_column: Optional[str] = typer.Option(None),
            output: Optional[Path] = typer.Option(None, "-o", help="Write predictions to this CSV")):
    """Predict new materials with a run's refit model."""
    try:
        df = predict_file(run_dir, data, input_column=input_column)
    except (AssayError, KeyError, ValueError, FileNotFoundError, OSError) as exc:
        _fail(exc)
    if output:
        try:
            atomic_write_text(output, spreadsheet_safe(df).to_csv(index=False))
        except OSError as exc:
            _fail(AssayError(f"cannot write {output}: {exc.strerror}"))
    console.print(df.to_string(index=False))


def main() -> None:  # pragma: no cover
    sys.exit(app())


def _register_stage_commands() -> None:
    """Commands that belong to later workflow stages live beside their stage."""
    explanation_commands.register(app)
    discovery_commands.register(app)
    report_commands.register(app)


_register_stage_commands()


if __name__ == "__main__":  # pragma: no cover - `python -m assay.cli`
    main()
