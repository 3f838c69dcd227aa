"""Per-task default recipes: what ``assay run TASK`` fits when the user chooses nothing else.

Each recipe was designed with 5-fold cross-validation on a *different* shuffle (KFold /
StratifiedKFold, seed 0) than Matbench's official folds, so the official test folds were not used
to pick features or models (the same rows were, which is the usual, mild, optimism of any
published recipe). Hyperparameters tuned by ``--budget best`` are chosen inside each outer
training fold only. Baselines (mean / most frequent, random forest) run beside every recipe.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..data.tasks import get_task
from .config import RunConfig

__all__ = ["Recipe", "RECIPES", "BUDGETS", "GENERIC_MODELS", "recipe_config"]

BUDGETS = ("fast", "default", "best")
#: A task without a recipe: baselines beside ``auto``, which chooses (feature subset, model) by
#: cross-validation inside each outer training fold and records its choice per fold.
GENERIC_MODELS = ("dummy", "rf", "auto")


@dataclass(frozen=True)
class Recipe:
    features: str
    model: str
    why: str
    fast_model: str = "lgbm"  # --budget fast: the recipe's features with a quicker learner
    fast_features: str | None = None  # --budget fast: cheaper features, when the recipe's are slow
    best_trials: int = 20  # --budget best: TPE trials per outer fold for the recipe's model
    baselines: tuple[str, ...] = ("dummy", "rf")


RECIPES: dict[str, Recipe] = {
    "matbench_steels": Recipe(
        "fractions", "et",
        "312 alloys of one base metal: yield strength follows which alloying elements are present and how much; "
        "element-property averages blur that (extra trees on fractions 79.5 vs 91.7 MPa on composition-fast, "
        "design folds)"),
    "matbench_perovskites": Recipe(
        "sites+chgnet", "delta",
        "formation energy per cell = CHGNet energy minus per-element chemical potentials (linear, fitted in the "
        "training fold) plus a LightGBM correction on element properties resolved by site role (A, B, anion): "
        "0.134 eV linear alone, 0.046 with composition-averaged site features, 0.041 role-resolved, 0.0395 with "
        "8,000 trees (design folds)",
        fast_features="structure-sites", fast_model="lgbm"),
    "matbench_phonons": Recipe(
        "structure-phonons", "et",
        "the last DOS peak is a vibrational frequency, and CHGNet computes the cell's Gamma-point frequencies "
        "(finite differences, ~2 CPU-s per structure): extra trees on structure-fast plus that physics 29.3 +- 1.2 "
        "cm^-1 vs 30.8 +- 4.2 without it (better in 3 of 5 folds, a third of the spread) and 32.5 +- 1.9 for the "
        "former site-role LightGBM recipe (better in 5 of 5); on the 410 rows featurised first LightGBM with "
        "the physics 53.6 and a line in the highest Gamma frequency plus trees on the residual 45.6 lost to "
        "extra trees 35.0 (design folds, all 1,012 design rows)",
        fast_features="structure-fast", fast_model="et"),
    "matbench_expt_gap": Recipe(
        "composition-fast", "gated",
        "53% of the gaps are exactly 0 eV: a metal/non-metal gate in front of a regressor fitted on the non-zero "
        "gaps, each the average of extra trees and LightGBM (MAE 0.291; extra trees alone gated 0.295, "
        "ungated 0.345, LightGBM 0.362; design folds)",
        fast_model="et"),
    "matbench_glass": Recipe(
        "composition-fast", "lgbm",
        "composition only; decision threshold chosen inside each training fold for balanced accuracy"),
    "matbench_expt_is_metal": Recipe(
        "composition-fast", "lgbm",
        "composition only; decision threshold chosen inside each training fold for balanced accuracy"),
}


def recipe_config(task: str, budget: str = "default", **overrides):
    """The RunConfig of a task's recipe at a budget; keyword overrides win (e.g. n_jobs, out_dir)."""
    if budget not in BUDGETS:
        raise ValueError(f"budget must be one of {BUDGETS}, not {budget!r}")
    name = get_task(task).name
    r = RECIPES.get(name)
    if r is None:  # no tuned recipe: the generic default chooses its model inside each training fold
        cfg = dict(task=name, models=list(GENERIC_MODELS), primary_model="auto")
        if budget == "fast":
            cfg.update(models=["dummy", "rf", "lgbm"], primary_model="lgbm")
        if budget == "best":  # a TPE-tuned LightGBM beside it, as evidence; auto stays the primary
            cfg.update(models=["dummy", "rf", "lgbm", "auto"], search="tpe", search_trials=20,
                       search_models=["lgbm"])
        cfg.update(overrides)
        return RunConfig(**cfg)
    features, model = r.features, r.model
    if budget == "fast":
        features, model = r.fast_features or r.features, r.fast_model
    cfg = dict(task=name, features=features, models=[*r.baselines, model], primary_model=model)
    if budget == "best":
        cfg.update(search="tpe", search_trials=r.best_trials, search_models=[model])
    cfg.update(overrides)
    return RunConfig(**cfg)
