"""``evaluate_on_run``: your own model, judged the way the run judged its models.

Same rows, same features, same outer folds, same cleaning of the training rows, same metrics,
the same decision-threshold rule for classification (chosen inside each training fold for
balanced accuracy), the same two controls (random features of the same width, scrambled
training targets), and one-sided paired tests over the folds against every recorded model and
against its own controls. Each fold runs through the run's own fold job (:mod:`assay.run.fold`),
so a built-in model passed here scores exactly what the run recorded for it.

Nothing is written into the run folder (it has one owner, RunFolder): fold files go to a
temporary folder that is removed afterwards, or to ``out_dir`` when you want to keep them.
"""
from __future__ import annotations

import dataclasses
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..evaluation import metrics as M
from ..evaluation.controls import CONTROLS, random_features
from ..evaluation.parallel import run_jobs
from ..evaluation.stats import ALPHA, paired_test
from ..models.entries import check_task_type, resolve_model
from .fold import run_fold_job
from .inputs import RunInputs, load_run_inputs
from .plan import payload
from .records import FoldResult, FoldSpec

__all__ = ["OwnModelResult", "evaluate_on_run"]


@dataclass
class OwnModelResult:
    """Your model's fold results on a run's folds, its controls and its paired tests."""

    name: str
    run_id: str
    metric: str  # the run's primary metric
    higher_is_better: bool
    folds: list[FoldResult]  # one per outer fold, in fold order
    controls: dict[str, list[FoldResult]]  # control name -> one per fold
    recorded: dict[str, list[float]]  # recorded model -> its primary-metric score per fold
    baselines: list[str]
    tests: list[dict] = field(default_factory=list)  # paired tests, yours against each
    random_features: str | None = None  # what the random-feature control's matrix was
    seconds: float = 0.0

    def fold_scores(self, metric: str | None = None) -> pd.DataFrame:
        """One row per fold: your model, every recorded model and your controls (primary metric)."""
        m = metric or self.metric
        cols = {self.name: [x.metric(m) for x in self.folds]}
        if m == self.metric:
            cols.update(self.recorded)
        for c, rs in self.controls.items():
            cols[f"{self.name} [{c}]"] = [x.metric(m) for x in rs]
        return pd.DataFrame(cols, index=pd.Index(range(len(self.folds)), name="fold"))

    def scores(self) -> pd.DataFrame:
        """Every metric of your model, one row per fold (with the chosen threshold, if any)."""
        return pd.DataFrame([{"fold": x.fold, **x.scores, "fit_seconds": x.fit_seconds,
                              "n_train": x.n_train, "n_test": x.n_test}
                             for x in self.folds]).set_index("fold")

    def summary(self) -> dict:
        """Metric -> {mean, std, min, max} over the folds (std with ddof=0, as the leaderboard)."""
        return M.summarize([x.scores for x in self.folds])

    def table(self) -> pd.DataFrame:
        """Mean ± std of the primary metric over the folds: recorded models, yours, your controls."""
        fs = self.fold_scores()
        kind = {c: ("baseline" if c in self.baselines else "recorded model") for c in self.recorded}
        kind[self.name] = "your model"
        rows = [{"model": c, "kind": kind.get(c, "control"), "mean": float(np.nanmean(fs[c])),
                 "std": float(np.nanstd(fs[c])), "n_folds": int(np.isfinite(fs[c]).sum())}
                for c in fs.columns]
        out = pd.DataFrame(rows).set_index("model")
        out.attrs["metric"] = self.metric
        return out

    def comparison(self) -> pd.DataFrame:
        """The paired tests: is your model better than each? (one-sided, over the same folds)."""
        cols = ["versus", "kind", "mean_model", "mean_versus", "mean_gain", "folds_better",
                "n_folds", "p_ttest", "p_wilcoxon", "verdict"]
        return pd.DataFrame(self.tests, columns=cols).set_index("versus")

    def thresholds(self) -> list[float | None]:
        """The decision threshold chosen inside each training fold (None: 0.5 was used)."""
        return [x.threshold["threshold"] if x.threshold else None for x in self.folds]

    def predictions(self) -> pd.DataFrame:
        """Your model's test-fold predictions, one row per row of the data."""
        return pd.concat([pd.DataFrame({"fold": x.fold, "id": x.ids, "y_true": x.y_true,
                                        "y_pred": x.y_pred,
                                        "y_proba": x.y_proba if x.y_proba is not None
                                        else [np.nan] * len(x.ids)}) for x in self.folds],
                         ignore_index=True)

    def to_dict(self) -> dict:
        return {"name": self.name, "run_id": self.run_id, "metric": self.metric,
                "higher_is_better": self.higher_is_better, "alpha": ALPHA,
                "folds": [x.to_dict() for x in self.folds],
                "controls": {c: [x.to_dict() for x in rs] for c, rs in self.controls.items()},
                "recorded": self.recorded, "tests": self.tests,
                "random_features": self.random_features, "seconds": self.seconds}


def evaluate_on_run(run, model, name: str = "mine", *, controls=CONTROLS, n_jobs: int = 1,
                    out_dir=None, progress: bool = False) -> OwnModelResult:
    """Fit and score ``model`` on the outer folds of a finished run, with controls and tests.

    ``run``: a run folder (path or RunFolder), a RunResult, or the RunInputs already loaded
    (saves loading the data twice). ``model``: a scikit-learn estimator, a zoo name, a
    reference ``module:attr`` or a factory, as ``models`` of a run accepts. ``controls``: any of
    'random-features' and 'scrambled-target' (default both). ``out_dir``: keep the fold files
    there (default: a temporary folder, removed before returning).
    """
    t0 = time.perf_counter()
    inp = run if isinstance(run, RunInputs) else load_run_inputs(run, progress=progress)
    r, ds, c = inp.resolved, inp.dataset, inp.config
    if name in r.models:
        raise ValueError(f"name {name!r} is already a model of this run ({', '.join(r.models)}); "
                         "choose another name")
    unknown = [x for x in controls if x not in CONTROLS]
    if unknown:
        raise ValueError(f"unknown control(s) {unknown}; known: {', '.join(CONTROLS)}")
    entry = resolve_model(name, model)
    entry.target_transform = None if c.target_transform == "none" else (c.target_transform,
                                                                        c.target_shift)
    check_task_type(entry, ds.task_type, c.seed)
    rr = dataclasses.replace(r, models={**r.models, name: entry})
    X_random, random_kind = None, None
    if "random-features" in controls:
        X_random, random_kind = random_features(ds, inp.X.shape[1], seed=c.seed)
    threshold = ds.is_classification and c.threshold != "none"
    with tempfile.TemporaryDirectory(prefix="assay-own-model-") as tmp:
        base = Path(out_dir) if out_dir is not None else Path(tmp)
        specs = []
        for k, (train, test) in enumerate(inp.folds):
            specs.append(FoldSpec("main", name, k, inp.split, train, test,
                                  str(base / name / "folds" / f"fold_{k}.json"), threshold=threshold))
            for control in controls:
                specs.append(FoldSpec("control", name, k, inp.split, train, test,
                                      str(base / name / "controls" / control / f"fold_{k}.json"),
                                      variant=control, scramble=control == "scrambled-target",
                                      random_features=control == "random-features",
                                      keep_predictions=False))
        jobs = (payload(rr, s, inp.X, X_random, inp.labels) for s in specs)
        results = run_jobs(run_fold_job, jobs, n_jobs=n_jobs, n_total=len(specs))
    main = sorted((x for x in results if x.kind == "main"), key=lambda x: x.fold)
    ctrl = {v: sorted((x for x in results if x.kind == "control" and x.variant == v),
                      key=lambda x: x.fold) for v in controls}
    recorded = _recorded_fold_scores(inp, len(main))
    baselines = [m for m in r.models if r.models[m].is_baseline]
    out = OwnModelResult(name, r.run_id, inp.metric, inp.higher_is_better, main, ctrl, recorded,
                         baselines, random_features=random_kind)
    mine = [x.metric(inp.metric) for x in main]
    for versus, scores in recorded.items():
        kind = "baseline" if versus in baselines else "recorded model"
        out.tests.append(_test(mine, scores, versus, kind, inp.higher_is_better))
    for control, rs in ctrl.items():
        out.tests.append(_test(mine, [x.metric(inp.metric) for x in rs], f"{name} [{control}]",
                               "control", inp.higher_is_better))
    out.seconds = time.perf_counter() - t0
    return out


def _recorded_fold_scores(inp: RunInputs, n_folds: int) -> dict[str, list[float]]:
    """Each recorded model's primary-metric score per fold, from its fold files (exact JSON)."""
    by = {(x.model, x.fold): x.metric(inp.metric) for x in inp.folder.fold_results("main")}
    return {m: [by.get((m, k), float("nan")) for k in range(n_folds)] for m in inp.resolved.models}


def _test(mine, other, versus: str, kind: str, higher_is_better: bool) -> dict:
    return {"versus": versus, "kind": kind, "mean_model": float(np.nanmean(mine)),
            "mean_versus": float(np.nanmean(other)), **paired_test(mine, other, higher_is_better)}
