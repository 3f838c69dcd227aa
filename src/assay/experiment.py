"""The one core behind both faces of assay: ``assay run`` and ``assay.Experiment(...).run()``.

Data flows one way: load -> audit -> featurise -> split -> (clean, fit, predict) per fold ->
score -> write the run folder. Each finished fold is persisted as it completes, so a killed
run started again continues where it stopped and gives the same numbers.

Run folder (beside config.toml, dataset.json, audit/, features.json, scores.csv, summary.json,
predictions.parquet, results.json.gz, matbench/, model.joblib, summary.html, run.json):

folds.json                    split, description, n_folds, partition, fold_sizes, test_fold (or
                              test_indices when test folds overlap), overlap (chemistry shared
                              between training and test rows, per fold and mean)
folds/<model>/fold_<k>.json   one outer fold: scores, train_scores, params (chosen by the search),
                              search (summary), threshold (classification), predictions
search/<model>/fold_<k>.json  the inner search of that fold: every trial (number, params, score,
                              seconds, state) written as it completes, best, done
search/<model>/all_rows.json  the search behind the deployed model (model.joblib)
controls/<model>/<control>/fold_<k>.json   the model on random features / scrambled targets
learning_curve/<model>/size_<f>/fold_<k>.json, learning_curve.json, learning_curve.png
comparison.json               paired tests: every model vs the baselines and its controls
splits/<split>/..., extra_splits.json      the same models on extra splits (e.g. loco)
"""
from __future__ import annotations

import datetime as _dt
import platform
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from .config import RunConfig
from .data.dataset import Dataset
from .evaluation import metrics as M
from .evaluation.matbench_format import benchmark_dict, task_results, write_results
from .evaluation.splitters import SPLITS, default_split, make_splits
from .models.zoo import available_models, get_model_spec, make_model
from .store.atomic import atomic_write_json, atomic_write_text, read_json
from .store.database import RunDatabase
from .ui import progress_bar, say


def package_versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("assay", "numpy", "pandas", "scikit-learn", "scipy", "pymatgen", "matminer",
                "lightgbm", "xgboost", "torch", "optuna", "matplotlib", "joblib", "distributed"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def machine_info() -> dict:
    import os

    return {"host": socket.gethostname(), "platform": platform.platform(),
            "processor": platform.machine(), "cpus": os.cpu_count()}


@dataclass
class RunResult:
    """What a finished run produced; everything is also on disk in ``path``."""

    run_id: str
    path: Path
    config: RunConfig
    scores: pd.DataFrame  # one row per (model, fold) with every metric
    summary: dict  # model -> metric -> {mean, std, min, max}
    predictions: pd.DataFrame
    timings: dict = field(default_factory=dict)
    split: str = ""  # the split actually used ("auto" resolved)
    comparison: dict = field(default_factory=dict)  # comparison.json
    learning_curve: dict = field(default_factory=dict)  # learning_curve.json
    extra_splits: dict = field(default_factory=dict)  # extra_splits.json

    def table(self, metric: str | None = None) -> pd.DataFrame:
        """Fold mean and std of each model for one metric (the primary one by default)."""
        rows = []
        for model, s in self.summary.items():
            m = metric or next(iter(s))
            rows.append({"model": model, "metric": m, "mean": s[m]["mean"], "std": s[m]["std"]})
        return pd.DataFrame(rows)


def _positive_proba(est, X):
    from .evaluation.search import positive_proba

    return positive_proba(est, X)


def _clean_training_rows(ds: Dataset, train, y, steps):
    """Apply the cleaning steps to the training rows only: test targets are never touched."""
    if not steps:
        return train, y[train], None
    from .data.cleaning import Cleaner

    cleaned, log = Cleaner.from_config(steps).apply(ds.subset(train))
    pos = pd.Index(ds.ids).get_indexer(cleaned.ids)
    if (pos < 0).any():
        raise RuntimeError("cleaning produced row ids that are not in the dataset")
    return pos, cleaned.y(), log.to_dict()


def _run_fold_job(job: dict) -> dict:
    """One (model, fold, variant): clean the training rows, [subsample, scramble, search inside
    the training rows], fit, predict the test rows, persist.

    Only ``X[train]``/``y_train`` reach the search and the fit; the test rows are predicted once.
    BLAS/OpenMP run one thread per job, whatever the process, so serial, parallel and Dask runs
    sum in the same order and give bit-identical numbers.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _fold_job(job)


def _fold_job(job: dict) -> dict:
    from .evaluation.controls import scramble
    from .evaluation.learning_curve import subsample
    from .evaluation.search import choose_threshold, search_params

    X, y, ids = job["X"], job["y"], job["ids"]
    train, test = np.asarray(job["train"]), np.asarray(job["test"])
    task_type, seed, fold, model = job["task_type"], job["seed"], job["fold"], job["model"]
    train, y_train, clean_log = _clean_training_rows(job["dataset"], train, y, job["cleaning"])
    fraction = job.get("fraction")
    if fraction is not None and fraction < 1.0:
        keep = subsample(np.arange(len(train)), fraction, seed, fold)
        train, y_train = train[keep], y_train[keep]
    if job.get("scramble"):
        y_train = scramble(y_train, seed, fold)
    X_train = X[train]
    params, search_info = {}, None
    if job.get("search"):
        sp = job["search"]
        rec = search_params(model, task_type, X_train, y_train, strategy=sp["strategy"],
                            n_trials=sp["n_trials"], seconds=sp["seconds"],
                            inner_folds=sp["inner_folds"], seed=seed, path=sp["path"])
        params = dict(rec["best"]["params"] or {})
        search_info = {"strategy": rec["strategy"], "n_trials": len(rec["trials"]),
                       "metric": rec["metric"], "best_inner_score": rec["best"]["score"],
                       "seconds": float(sum(t["seconds"] for t in rec["trials"])),
                       "file": str(Path(sp["path"]).relative_to(job["run_dir"]))
                       if job.get("run_dir") else None}
    t0 = time.perf_counter()
    est = make_model(model, task_type, seed=seed, n_jobs=1, feature_names=job.get("feature_names"), **params)
    est.fit(X_train, y_train)
    fit_s = time.perf_counter() - t0
    pred = np.asarray(est.predict(X[test]))
    proba = _positive_proba(est, X[test]) if task_type == "classification" else None
    scores = M.score(task_type, y[test], pred, proba)
    tr_proba = _positive_proba(est, X_train) if task_type == "classification" else None
    train_scores = M.score(task_type, y_train, est.predict(X_train), tr_proba)
    threshold = None
    if job.get("threshold") and task_type == "classification" and proba is not None:
        threshold = choose_threshold(model, task_type, params, X_train, y_train, seed)
        if threshold is not None:
            # The threshold, chosen inside the training fold, is part of the model: its hard labels
            # (what Matbench scores as 'rocauc') are the tuned ones. The 0.5-threshold figures stay.
            at_half = {f"{k}_at_0.5": v for k, v in scores.items()
                       if k in ("accuracy", "balanced_accuracy", "f1", "rocauc")}
            pred = (proba >= threshold["threshold"]).astype(int)
            scores = M.score(task_type, y[test], pred, proba)
            scores.update({"threshold": threshold["threshold"],
                           "balanced_accuracy_tuned": scores["balanced_accuracy"],
                           "f1_tuned": scores["f1"], **at_half})
    out = {"model": model, "fold": fold, "kind": job.get("kind", "main"),
           "variant": job.get("variant"), "split": job.get("split"), "fraction": fraction,
           "scores": scores, "train_scores": train_scores, "fit_seconds": fit_s,
           "n_train": int(len(train)), "n_test": int(len(test)), "cleaning": clean_log,
           "params": params, "search": search_info, "threshold": threshold}
    if job.get("keep_predictions", True):
        out.update({"ids": [str(i) for i in ids[test]], "y_true": y[test].tolist(),
                    "y_pred": pred.tolist(), "y_proba": None if proba is None else proba.tolist()})
    atomic_write_json(job["path"], out)
    return out


class Experiment:
    """Configure with a RunConfig or keyword arguments, then ``run()``."""

    def __init__(self, config: RunConfig | None = None, **kwargs):
        self.config = config if config is not None else RunConfig(**kwargs)
        self.dataset: Dataset | None = None

    # -- stage 1: data ---------------------------------------------------------------------
    def load_data(self, progress: bool = True) -> Dataset:
        c = self.config
        if c.task:
            from .data.loading import load_task

            self.dataset = load_task(c.task, c.data, progress=progress)
        else:
            from .data.user import load_user_data

            self.dataset = load_user_data(c.data, c.target, input_column=c.input_column,
                                          id_column=c.id_column, task_type=c.task_type,
                                          structures_dir=c.structures_dir)
        return self.dataset

    @property
    def run_id(self) -> str:
        c = self.config
        stem = c.name or (c.task.removeprefix("matbench_") if c.task else Path(c.data).stem)
        return f"{stem}-{c.digest()}"

    # -- the whole run ---------------------------------------------------------------------
    def run(self, progress: bool = True, force: bool = False) -> RunResult:
        c = self.config
        t_start = time.perf_counter()
        started = _dt.datetime.now().isoformat(timespec="seconds")
        timings: dict[str, float] = {}
        if c.models != ["all"]:
            for m in c.models:
                get_model_spec(m)  # fail fast on unknown names
        for sp in [c.split, *c.extra_splits]:
            if sp != "auto" and sp not in SPLITS:
                raise KeyError(f"Unknown split {sp!r}; known: {', '.join(SPLITS)}")

        t0 = time.perf_counter()
        ds = self.dataset or self.load_data(progress=progress)
        timings["load"] = time.perf_counter() - t0
        if c.models == ["all"]:
            c.models = available_models(ds.task_type)
            if c.primary_model is None:
                c.primary_model = "lgbm"
        run_dir = Path(c.out_dir) / self.run_id
        if force and run_dir.exists():
            import shutil

            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        db = RunDatabase(Path(c.out_dir) / "assay.sqlite")
        db.record_run(self.run_id, task=ds.name, status="running", started=started,
                      path=str(run_dir.resolve()), config=c.identity(), versions=package_versions(),
                      primary_model=c.primary, primary_metric=self._primary_metric(ds))
        atomic_write_text(run_dir / "config.toml", c.to_toml())
        say(f"run [bold]{self.run_id}[/] -> {run_dir}")
        atomic_write_json(run_dir / "dataset.json", self._dataset_info(ds))

        # -- features (per row, from that row alone: computing them before splitting cannot leak)
        from .features import featurize

        t0 = time.perf_counter()
        fs = featurize(ds.inputs, c.features, input_type=ds.input_type, n_jobs=c.n_jobs,
                       progress=progress)
        timings["featurize"] = time.perf_counter() - t0
        X = fs.X.to_numpy(dtype=float)
        y = ds.y()
        ids = np.asarray(ds.ids)

        # -- splits ---------------------------------------------------------------------
        split = default_split(ds) if c.split == "auto" else c.split
        folds = make_splits(split, ds, n_folds=c.n_folds, seed=c.seed, X=X)
        fold_info = self._fold_info(split, folds, ds)
        if split == "official":
            from .data.folds import verify_official_folds

            fold_info["verified_against_official"] = bool(verify_official_folds(ds.name, ds.y()))
            if not fold_info["verified_against_official"]:
                raise RuntimeError(f"Regenerated folds for {ds.name} differ from the official ones; "
                                   "were the rows reordered or filtered?")
        atomic_write_json(run_dir / "folds.json", fold_info)
        extra_folds = {}
        for sp in c.extra_splits:
            if sp == split:
                continue
            extra_folds[sp] = make_splits(sp, ds, n_folds=c.n_folds, seed=c.seed, X=X)
            atomic_write_json(run_dir / "splits" / sp / "folds.json",
                              self._fold_info(sp, extra_folds[sp], ds))

        # -- audit ----------------------------------------------------------------------
        t0 = time.perf_counter()
        with progress_bar(progress, "audit") as tick:
            self._audit(ds, folds, run_dir)
            tick()
        timings["audit"] = time.perf_counter() - t0

        atomic_write_json(run_dir / "features.json", {
            "preset": fs.preset, "n_features": fs.X.shape[1], "labels": fs.labels,
            "seconds": fs.seconds, "from_cache": fs.from_cache, "citations": fs.citations,
            "failed": fs.failed.to_dict(orient="records"),
            "note": "Features are computed per row from that row alone, so featurising before "
                    "splitting cannot leak; scaling and imputation are fitted inside each fold."})
        if len(fs.failed):
            say(f"[yellow]{len(fs.failed)} rows could not be fully featurised; see features.json[/]")

        # -- controls' features ------------------------------------------------------------
        X_random, random_kind = None, None
        if "random-features" in c.controls and c.controlled_models:
            from .evaluation.controls import random_features

            t0 = time.perf_counter()
            X_random, random_kind = random_features(ds, X.shape[1], seed=c.seed)
            timings["control_features"] = time.perf_counter() - t0

        # -- folds x models x variants (persisted, resumable, parallel) --------------------
        t0 = time.perf_counter()
        jobs, done = self._plan_jobs(ds, X, X_random, y, ids, split, folds, extra_folds, run_dir,
                                      fs.labels)
        results = self._execute(jobs, done, run_dir, progress)
        timings["folds"] = time.perf_counter() - t0
        main = [r for r in results if r.get("kind", "main") == "main"]

        # -- aggregate ------------------------------------------------------------------
        scores, summary, preds = self._aggregate(main)
        atomic_write_text(run_dir / "scores.csv", scores.to_csv(index=False))
        atomic_write_json(run_dir / "summary.json", summary)
        preds.to_parquet(run_dir / "predictions.parquet.tmp", index=False)
        Path(run_dir / "predictions.parquet.tmp").replace(run_dir / "predictions.parquet")
        if split == "official":
            self._write_matbench(ds, main, run_dir)
        comparison = self._comparison(ds, main, results, random_kind)
        atomic_write_json(run_dir / "comparison.json", comparison)
        curves = self._learning_curves(ds, main, results, run_dir)
        extra = self._extra_summary(results, extra_folds, run_dir)
        self._write_search_summary(main, run_dir)

        # -- refit the primary model on all rows, for `assay predict` ----------------------
        t0 = time.perf_counter()
        est, refit_info = self._refit(ds, X, y, run_dir, fs.labels)
        joblib.dump({"model": est, "features": c.features, "input_type": ds.input_type,
                     "task_type": ds.task_type, "labels": fs.labels, "target": ds.target_name,
                     "model_name": c.primary, "params": refit_info["params"],
                     "threshold": refit_info["threshold"], "run_id": self.run_id},
                    run_dir / "model.joblib.tmp")
        Path(run_dir / "model.joblib.tmp").replace(run_dir / "model.joblib")
        timings["refit"] = time.perf_counter() - t0
        timings["total"] = time.perf_counter() - t_start

        pm = self._primary_metric(ds)
        run_info = {"run_id": self.run_id, "task": ds.name, "status": "finished",
                    "started": started, "finished": _dt.datetime.now().isoformat(timespec="seconds"),
                    "timings": timings, "versions": package_versions(), "machine": machine_info(),
                    "primary_model": c.primary, "primary_metric": pm, "seed": c.seed,
                    "n_jobs": c.n_jobs, "cluster": c.cluster,
                    "fit_seconds_by_kind": _fit_seconds_by_kind(results)}
        atomic_write_json(run_dir / "run.json", run_info)
        result = RunResult(self.run_id, run_dir, c, scores, summary, preds, timings, split,
                           comparison=comparison, learning_curve=curves, extra_splits=extra)
        from .report.summary import write_summary_html

        write_summary_html(result, ds)
        prim = summary.get(c.primary, {}).get(pm, {"mean": float("nan"), "std": float("nan")})
        db.record_run(self.run_id, task=ds.name, status="finished", finished=run_info["finished"],
                      wall_seconds=timings["total"], primary_mean=prim["mean"], primary_std=prim["std"])
        db.record_fold_scores(self.run_id, [(r["model"], r["fold"], k, v, r["fit_seconds"])
                                            for r in main for k, v in r["scores"].items()])
        db.record_timings(self.run_id, timings)
        return result

    # -- helpers -------------------------------------------------------------------------
    @staticmethod
    def _primary_metric(ds: Dataset) -> str:
        return "rocauc" if ds.is_classification else "mae"

    def _dataset_info(self, ds: Dataset) -> dict:
        return {"name": ds.name, "n_rows": len(ds), "input_type": ds.input_type,
                "task_type": ds.task_type, "target": ds.target_name, "unit": ds.unit,
                "source": {k: v for k, v in ds.source.items() if k != "dropped_rows"},
                "dropped_rows": ds.source.get("dropped_rows", [])}

    @staticmethod
    def _fold_info(split: str, folds, ds: Dataset) -> dict:
        from .evaluation.splitters import SPLITS as _S, is_partition, split_overlap

        partition = is_partition(folds, len(ds))
        info = {"split": split, "description": _S.get(split, ""), "n_folds": len(folds),
                "partition": partition,
                "fold_sizes": [{"fold": k, "n_train": int(len(tr)), "n_test": int(len(te))}
                               for k, (tr, te) in enumerate(folds)]}
        if partition:
            info["test_fold"] = _fold_labels(folds, len(ds)).tolist()
        else:
            info["test_indices"] = [np.asarray(te).tolist() for _, te in folds]
        try:
            info["overlap"] = split_overlap(ds, folds)
        except Exception as exc:  # noqa: BLE001 - overlap is a report, not a reason to stop
            info["overlap"] = {"error": f"{type(exc).__name__}: {exc}"}
        return info

    def _audit(self, ds: Dataset, folds, run_dir: Path) -> None:
        try:
            from .data.audit import audit
        except ImportError:  # pragma: no cover - audit module is part of the package
            return
        report = audit(ds, folds=folds, out_dir=run_dir / "audit")
        atomic_write_json(run_dir / "audit" / "audit.json", report.to_dict())

    def _plan_jobs(self, ds, X, X_random, y, ids, split, folds, extra_folds, run_dir, labels):
        """Every (model, fold, variant) job not already on disk, and those that are."""
        c = self.config
        clf = ds.is_classification
        searched = set(c.searched_models)
        jobs, done = [], []

        def add(path, **kw):
            if path.is_file():
                done.append(read_json(path))
                return
            job = {"task_type": ds.task_type, "seed": c.seed, "X": X, "y": y, "ids": ids,
                   "path": path, "dataset": ds, "cleaning": c.cleaning, "run_dir": run_dir,
                   "threshold": False, "search": None, "feature_names": list(labels)}
            job.update(kw)
            jobs.append(job)

        def search_for(model, base, k):
            if model not in searched:
                return None
            return {"strategy": c.search, "n_trials": c.search_trials, "seconds": c.search_seconds,
                    "inner_folds": c.search_inner_folds,
                    "path": base / "search" / model / f"fold_{k}.json"}

        want_threshold = clf and c.threshold != "none"
        for model in c.models:
            thr = want_threshold and model != "dummy"
            for k, (train, test) in enumerate(folds):
                add(run_dir / "folds" / model / f"fold_{k}.json", kind="main", model=model, fold=k,
                    split=split, train=train, test=test, search=search_for(model, run_dir, k),
                    threshold=thr, cost=_cost(model, searched, c))
            for sp, fl in extra_folds.items():
                base = run_dir / "splits" / sp
                for k, (train, test) in enumerate(fl):
                    add(base / "folds" / model / f"fold_{k}.json", kind="extra", model=model,
                        fold=k, split=sp, train=train, test=test,
                        search=search_for(model, base, k), threshold=thr,
                        cost=_cost(model, searched, c))
        for model in c.controlled_models:
            for control in c.controls:
                for k, (train, test) in enumerate(folds):
                    kw = {"X": X_random, "feature_names": None} if control == "random-features" \
                        else {"scramble": True}
                    add(run_dir / "controls" / model / control / f"fold_{k}.json", kind="control",
                        variant=control, model=model, fold=k, split=split, train=train, test=test,
                        keep_predictions=False, cost=_cost(model, set(), c), **kw)
        for model in c.curve_models:
            for frac in c.learning_curve_sizes:
                if frac >= 1.0 and model not in searched:
                    continue  # the 100% point is the model's own fold result
                for k, (train, test) in enumerate(folds):
                    add(run_dir / "learning_curve" / model / f"size_{frac:g}" / f"fold_{k}.json",
                        kind="curve", variant=f"size_{frac:g}", fraction=frac, model=model, fold=k,
                        split=split, train=train, test=test, keep_predictions=False,
                        cost=frac * _cost(model, set(), c))
        return jobs, done

    def _execute(self, jobs, done, run_dir, progress) -> list[dict]:
        from .evaluation.parallel import run_jobs

        c = self.config
        if done:
            say(f"resuming: {len(done)} finished fold results read from {run_dir}")
        if not jobs:
            return done
        with progress_bar(progress, "folds x models", total=len(jobs)) as tick:
            new = run_jobs(_run_fold_job, jobs, n_jobs=c.n_jobs, cluster=c.cluster,
                           on_done=lambda r: tick())
        return done + new

    def _aggregate(self, results):
        c = self.config
        order = {m: i for i, m in enumerate(c.models)}
        results = sorted(results, key=lambda r: (order[r["model"]], r["fold"]))
        scores = pd.DataFrame([{"model": r["model"], "fold": r["fold"], **r["scores"],
                                "fit_seconds": r["fit_seconds"], "n_train": r["n_train"],
                                "n_test": r["n_test"]} for r in results])
        summary = {}
        for model in c.models:
            rs = [r["scores"] for r in results if r["model"] == model]
            summary[model] = M.summarize(rs)
        preds = pd.concat([pd.DataFrame({"model": r["model"], "fold": r["fold"], "id": r["ids"],
                                         "y_true": r["y_true"], "y_pred": r["y_pred"],
                                         "y_proba": r["y_proba"] if r["y_proba"] is not None
                                         else [np.nan] * len(r["ids"])}) for r in results],
                          ignore_index=True)
        return scores, summary, preds

    def _comparison(self, ds, main, results, random_kind) -> dict:
        from .evaluation.controls import compare
        from .models.zoo import get_model_spec

        c = self.config
        pm = self._primary_metric(ds)
        higher = pm in M.HIGHER_IS_BETTER

        def per_fold(rs):
            return [r["scores"].get(pm, float("nan")) for r in sorted(rs, key=lambda r: r["fold"])]

        fold_scores = {m: per_fold([r for r in main if r["model"] == m]) for m in c.models}
        controls: dict[str, dict[str, list]] = {}
        control_summary: dict[str, dict] = {}
        for r in results:
            if r.get("kind") == "control":
                controls.setdefault(r["model"], {}).setdefault(r["variant"], []).append(r)
        for m, by in controls.items():
            control_summary[m] = {v: M.summarize([r["scores"] for r in sorted(rs, key=lambda r: r["fold"])])
                                  for v, rs in by.items()}
            controls[m] = {v: per_fold(rs) for v, rs in by.items()}
        baselines = [m for m in c.models if get_model_spec(m).is_baseline]
        out = compare(fold_scores, controls, baselines, pm, higher)
        out["baselines"] = baselines
        out["fold_scores"] = fold_scores
        out["controls"] = {"models": c.controlled_models, "kinds": c.controls,
                           "random_features": random_kind, "fold_scores": controls,
                           "summary": control_summary,
                           "note": "controls use each model's default hyperparameters"}
        return out

    def _learning_curves(self, ds, main, results, run_dir) -> dict:
        from .evaluation import learning_curve as LC

        c = self.config
        if not c.curve_models:
            return {}
        pm = self._primary_metric(ds)
        metric = "roc_auc_true" if ds.is_classification else pm
        curves = []
        for model in c.curve_models:
            pts = [r for r in results if r.get("kind") == "curve" and r["model"] == model]
            if not any(r.get("fraction") == 1.0 for r in pts):
                pts += [dict(r, fraction=1.0) for r in main if r["model"] == model]
            points = [{"fraction": float(r["fraction"]), "fold": r["fold"], "n_train": r["n_train"],
                       "train_score": r["train_scores"].get(metric, float("nan")),
                       "validation_score": r["scores"].get(metric, float("nan"))} for r in pts]
            if points:
                curves.append(LC.aggregate(model, metric, metric in M.HIGHER_IS_BETTER, points))
        out = {"metric": metric, "curves": curves, "split": "outer folds of the main split",
               "note": "training subsets nest; smaller sizes use default hyperparameters"}
        atomic_write_json(run_dir / "learning_curve.json", out)
        if curves:
            LC.plot(curves, run_dir / "learning_curve.png", title=f"{ds.name}: learning curve")
        return out

    def _extra_summary(self, results, extra_folds, run_dir) -> dict:
        if not extra_folds:
            return {}
        out = {}
        for sp in extra_folds:
            rs = [r for r in results if r.get("kind") == "extra" and r.get("split") == sp]
            info = read_json(run_dir / "splits" / sp / "folds.json")
            out[sp] = {"n_folds": info["n_folds"], "overlap": info.get("overlap"),
                       "summary": {m: M.summarize([r["scores"] for r in sorted(
                           (r for r in rs if r["model"] == m), key=lambda r: r["fold"])])
                           for m in self.config.models if any(r["model"] == m for r in rs)}}
        atomic_write_json(run_dir / "extra_splits.json", out)
        return out

    def _write_search_summary(self, main, run_dir) -> None:
        rows = [{"model": r["model"], "fold": r["fold"], "params": r.get("params", {}),
                 **(r.get("search") or {})} for r in main if r.get("search")]
        if rows:
            atomic_write_json(run_dir / "search" / "summary.json",
                              {"strategy": self.config.search, "folds": rows})

    def _refit(self, ds, X, y, run_dir, labels):
        """The primary model on all rows, tuned (if searched) by inner CV on all rows."""
        from .evaluation.search import choose_threshold, search_params

        c = self.config
        params, threshold = {}, None
        if c.primary in c.searched_models:
            rec = search_params(c.primary, ds.task_type, X, y, strategy=c.search,
                                n_trials=c.search_trials, seconds=c.search_seconds,
                                inner_folds=c.search_inner_folds, seed=c.seed,
                                path=run_dir / "search" / c.primary / "all_rows.json")
            params = dict(rec["best"]["params"] or {})
        est = make_model(c.primary, ds.task_type, seed=c.seed, n_jobs=c.n_jobs,
                         feature_names=list(labels), **params).fit(X, y)
        if ds.is_classification and c.threshold != "none" and c.primary != "dummy":
            threshold = choose_threshold(c.primary, ds.task_type, params, X, y, c.seed)
        return est, {"params": params, "threshold": threshold}

    def _write_matbench(self, ds: Dataset, results, run_dir: Path) -> None:
        if ds.task is None:
            return
        c = self.config
        by_model: dict[str, list] = {}
        for r in sorted(results, key=lambda r: r["fold"]):
            by_model.setdefault(r["model"], []).append(r)
        for model, rs in by_model.items():
            preds = []
            for r in rs:
                vals = r["y_pred"] if not ds.is_classification else [bool(v) for v in r["y_pred"]]
                preds.append(dict(zip(r["ids"], vals)))
            mb_scores = [{k: v for k, v in r["scores"].items()
                          if k in ("mae", "rmse", "mape", "max_error", "accuracy",
                                   "balanced_accuracy", "f1", "rocauc")} for r in rs]
            d = benchmark_dict({ds.name: task_results(ds.name, preds, mb_scores)},
                               {"algorithm": f"assay {model}", "features": c.features,
                                "assay_run": self.run_id})
            target = run_dir / "matbench" / model / "results.json.gz"
            write_results(target, d)
            if model == c.primary:
                write_results(run_dir / "results.json.gz", d)


def _cost(model: str, searched: set, c: RunConfig) -> float:
    """A rough relative cost, to start long jobs first."""
    base = {"dummy": 0.01, "knn1": 0.05, "knn": 0.05, "ridge": 0.1, "lasso": 0.2, "linear": 0.3,
            "logistic": 0.3, "svm": 1.0, "rf": 5.0, "et": 3.0, "lgbm": 3.0, "xgb": 4.0,
            "mlp": 3.0}.get(model, 10.0)
    if model in searched:
        base *= 1 + c.search_trials * c.search_inner_folds * 0.6
    return base


def _fit_seconds_by_kind(results) -> dict:
    out: dict[str, float] = {}
    for r in results:
        k = r.get("kind", "main")
        out[k] = out.get(k, 0.0) + float(r.get("fit_seconds", 0.0))
    return out


def _fold_labels(folds, n) -> np.ndarray:
    labels = np.full(n, -1, dtype=int)
    for k, (_, test) in enumerate(folds):
        labels[test] = k
    return labels


def load_run(path) -> RunResult:
    """Re-open a finished run folder."""
    path = Path(path)
    c = RunConfig.from_toml(path / "config.toml")
    info = read_json(path / "run.json")
    def opt(name):
        return read_json(path / name) if (path / name).is_file() else {}

    return RunResult(info["run_id"], path, c, pd.read_csv(path / "scores.csv"),
                     read_json(path / "summary.json"), pd.read_parquet(path / "predictions.parquet"),
                     info.get("timings", {}), read_json(path / "folds.json")["split"],
                     comparison=opt("comparison.json"), learning_curve=opt("learning_curve.json"),
                     extra_splits=opt("extra_splits.json"))
