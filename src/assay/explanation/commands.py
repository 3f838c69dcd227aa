"""CLI commands of this workflow stage; ``register(app)`` adds them to the main Typer app."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import AssayError
from ..ui import console, set_quiet
from .counterfactual import counterfactuals
from .predict import spreadsheet_safe
from .trust import explain_run


def register(app) -> None:
    @app.command()
    def explain(
        run_dir: Path = typer.Argument(..., help="A finished run folder"),
        alpha: float = typer.Option(0.1, help="Miscoverage of the intervals (0.1 = 90% intervals)"),
        shap_rows: int = typer.Option(500, help="Held-out rows explained with SHAP (all folds together)"),
        inner_folds: int = typer.Option(5, help="K of the CV+ conformal intervals"),
        no_loco: bool = typer.Option(False, "--no-loco", help="Skip the leave-chemical-system-out comparison"),
        no_quantile: bool = typer.Option(False, "--no-quantile", help="Skip quantile boosting"),
        perm_repeats: int = typer.Option(3, help="Shuffles per feature for permutation importance"),
        perm_features: int = typer.Option(150, help="At most this many features (top by SHAP) get "
                                                    "per-feature permutation importance"),
        n_jobs: Optional[int] = typer.Option(None, "--n-jobs", "-j", help="Folds in parallel"),
        quiet: bool = typer.Option(False, "--quiet", "-q"),
    ):
        """Trust diagnostics for a run: importance, SHAP, surrogate, intervals, applicability domain."""
        set_quiet(quiet)
        try:
            s = explain_run(run_dir, alpha=alpha, n_inner=inner_folds, shap_rows=shap_rows,
                            quantile=not no_quantile, loco=not no_loco, n_jobs=n_jobs,
                            n_repeats=perm_repeats, max_perm_features=perm_features,
                            progress=not quiet)
        except (AssayError, KeyError, ValueError, FileNotFoundError) as exc:
            console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2)
        h = s["headline"]
        if "coverage" in h:
            console.print(f"{h['method']} intervals: coverage {h['coverage']:.3f} "
                          f"(nominal {h['nominal']:.2f}), mean width {h['mean_width']:.4g}, "
                          f"Spearman(width, |error|) {h['spearman_width_abs_error']:.3f}")
        else:
            console.print(f"Brier: {h['brier_uncalibrated']:.4f} uncalibrated, "
                          f"{h['brier_calibrated']:.4f} calibrated")
        print(Path(run_dir) / "trust")

    @app.command()
    def counterfactual(
        run_dir: Path = typer.Argument(..., help="A finished run folder (composition input)"),
        formula: str = typer.Argument(..., help="The composition to edit, e.g. Fe80B20"),
        want: str = typer.Option(..., "--want", help="The wanted class (e.g. 1), or for regression "
                                                     "a side of a threshold ('>2.0', '<1.5')"),
        max_edits: int = typer.Option(2, help="At most this many edits (1-3)"),
        beam: int = typer.Option(12, help="Candidates of one level carried on to the next"),
        step: float = typer.Option(0.05, help="Fraction step (0.05 = 5 atomic %)"),
        n: int = typer.Option(10, "-n", help="Show at most this many results"),
        output: Optional[Path] = typer.Option(None, "-o", help="Also write the results to this CSV"),
    ):
        """The smallest chemically sensible edits of a composition that reach a wanted prediction."""
        try:
            res = counterfactuals(run_dir, formula, want, max_edits=max_edits, beam=beam,
                                  n_results=n, step=step)
        except (AssayError, KeyError, ValueError, FileNotFoundError) as exc:
            console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2)
        start = res["start"].iloc[0]
        console.print(f"start: {formula} -> " + ", ".join(
            f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
            for k, v in start.items() if k not in ("input", "note")), markup=False)
        for note in res["notes"]:
            console.print(f"[yellow]note:[/] {note}")
        console.print(f"edits reaching {res['want']} (fewest edits, in-domain, fewest atoms changed first):")
        console.print(res["results"].to_string(index=False), soft_wrap=True, markup=False)
        if output:
            spreadsheet_safe(res["results"]).to_csv(output, index=False)
            console.print(f"written to {output}")

