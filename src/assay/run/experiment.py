"""The one core behind both faces of assay: ``assay run`` and ``assay.Experiment(...).run()``.

A run is a short sequence of named steps, each in its own module:

resolve    (resolve.py)   config -> data, model entries, primary model, run id (config + data hash)
features   (here)         per row, from that row alone: computing them before splitting cannot leak
split      (here)         the outer folds (and extra splits), verified against Matbench's when official
plan       (plan.py)      every (model, fold, variant) not already on disk
run folds  (fold.py)      in processes or on Dask; each result written as it finishes (resumable)
aggregate  (aggregate.py) scores, summaries, paired comparisons, learning curves, Matbench files
refit      (here)         the primary model on all rows, for ``assay predict``
record     (here)         run.json, the run registry

The caller's config is never changed; every artifact is written through the RunFolder.
"""
from __future__ import annotations

import datetime as _dt
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import cloudpickle
import numpy as np
import pandas as pd
from rich.markup import escape

from ..data.audit import audit, key_findings
from ..data.dataset import Dataset
from ..data.folds import verify_official_folds
from ..evaluation.controls import random_features
from ..evaluation.learning_curve import plot as plot_curves
from ..evaluation.parallel import run_jobs
from ..evaluation.search import choose_threshold, search_params
from ..evaluation.splitters import SPLITS, describe_split, is_partition, make_splits, split_overlap
from ..errors import AssayError
from ..features import featurize
from ..store.database import RunDatabase
from ..ui import progress_bar, say
from . import aggregate as A
from .config import RunConfig
from .fold import run_fold_job
from .folder import RunFolder
from .plan import payloads, plan_jobs
from .provenance import machine_info, package_versions
from .records import FoldResult
from .resolve import ResolvedRun, load_dataset, resolve_run, searched_models
from .summary_page import write_summary_html


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

    @property
    def folder(self) -> RunFolder:
        return RunFolder(self.path)

    def table(self, metric: str | None = None) -> pd.DataFrame:
        """Fold mean and std of each model for one metric (the primary one by default)."""
        rows = []
        for model, s in self.summary.items():
            m = metric or next(iter(s))
            rows.append({"model": model, "metric": m, "mean": s[m]["mean"], "std": s[m]["std"]})
        return pd.DataFrame(rows)


class Experiment:
    """Configure with a RunConfig or keyword arguments, then ``run()``."""

    def __init__(self, config: RunConfig | None = None, **kwargs):
        self.config = config if config is not None else RunConfig(**kwargs)
        self.dataset: Dataset | None = None
        self.resolved: ResolvedRun | None = None

    def load_data(self, progress: bool = True) -> Dataset:
        self.dataset = load_dataset(self.config, progress=progress)
        return self.dataset

    def resolve(self, progress: bool = True) -> ResolvedRun:
        self.resolved = resolve_run(self.config, self.dataset, progress=progress)
        self.dataset = self.resolved.dataset
        return self.resolved

    @property
    def run_id(self) -> str:
        return (self.resolved or self.resolve(progress=False)).run_id

    def run(self, progress: bool = True, force: bool = False) -> RunResult:
        t_start = time.perf_counter()
        started = _dt.datetime.now().isoformat(timespec="seconds")
        r = self.resolve(progress=progress)
        timings = {"load": time.perf_counter() - t_start}
        f, c = r.folder, r.config
        if force and f.path.exists():
            shutil.rmtree(f.path)
        db = RunDatabase(f.path.parent / "assay.sqlite")
        db.record_run(r.run_id, task=r.dataset.name, status="running", started=started,
                      path=str(f.path), config=c.identity(), versions=package_versions(),
                      primary_model=r.primary, primary_metric=r.metric)
        try:
            try:
                f.path.mkdir(parents=True, exist_ok=True)
                return self._steps(r, progress, timings, t_start, started, db)
            except OSError as exc:  # read-only or full disk: say where, not a traceback
                raise AssayError(f"cannot write the run folder {f.path}: {exc.strerror or exc}"
                                 + (f" ({exc.filename})" if exc.filename else "")
                                 + "; free some space or pass --out to another folder") from exc
        except BaseException as exc:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            try:  # best effort: on a full disk these writes fail too, and the first error counts
                db.record_run(r.run_id, status=status,
                              finished=_dt.datetime.now().isoformat(timespec="seconds"),
                              wall_seconds=time.perf_counter() - t_start)
                if f.path.is_dir():
                    f.write_run_info({"run_id": r.run_id, "status": status, "started": started,
                                      "error": f"{type(exc).__name__}: {exc}"[:2000]})
            except Exception:  # noqa: BLE001
                pass
            raise

    # -- the steps --------------------------------------------------------------------------
    def _steps(self, r: ResolvedRun, progress, timings, t_start, started, db) -> RunResult:
        f, c, ds = r.folder, r.config, r.dataset
        f.write_run_info({"run_id": r.run_id, "status": "running", "started": started})
        f.write_config(c)
        objects = c.user_objects()
        if objects:  # explain, predict and report use these where config.toml cannot rebuild them
            f.write_pickle("plugins.pkl", objects)
        say(f"run [bold]{r.run_id}[/] -> {f.path}")
        f.write_json("dataset.json", _dataset_info(ds, r.data_sha256))

        t0 = time.perf_counter()
        fs = featurize(ds.inputs, r.features, input_type=ds.input_type, ids=ds.ids,
                       n_jobs=c.n_jobs, threads=c.threads, progress=progress)
        timings["featurize"] = time.perf_counter() - t0
        X, labels = fs.X.to_numpy(dtype=float), list(fs.labels)

        split, folds, extra_folds, extra_info = self._split(r, X)
        t0 = time.perf_counter()
        with progress_bar(progress, "audit") as tick:
            report = audit(ds, folds=folds, out_dir=f.file("audit"))
            f.write_json("audit/audit.json", report.to_dict())
            tick()
        for finding in key_findings(report):
            say(f"[yellow]audit: {escape(finding.message)}[/] -> {escape(finding.remedy)}")
        timings["audit"] = time.perf_counter() - t0
        f.write_json("features.json", {
            "preset": fs.preset, "n_features": fs.X.shape[1], "labels": labels,
            "seconds": fs.seconds, "from_cache": fs.from_cache, "citations": fs.citations,
            "failed": fs.failed.to_dict(orient="records"),
            "note": "Features are computed per row from that row alone, so featurising before "
                    "splitting cannot leak; scaling and imputation are fitted inside each fold."})
        if len(fs.failed):
            say(f"[yellow]{len(fs.failed)} rows could not be fully featurised; see features.json[/]")

        X_random, random_kind = None, None
        if "random-features" in c.controls and c.controlled_models:
            t0 = time.perf_counter()
            X_random, random_kind = random_features(ds, X.shape[1], seed=c.seed)
            timings["control_features"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        todo, done = plan_jobs(r, split, folds, extra_folds, X_random is not None)
        results = self._run_folds(r, todo, done, X, X_random, labels, progress)
        timings["folds"] = time.perf_counter() - t0
        main = [x for x in results if x.kind == "main"]

        scores, summary, preds = A.scores_summary_predictions(r, main)
        f.write_scores(scores)
        f.write_json("summary.json", summary)
        f.write_predictions(preds)
        if split == "official":
            A.write_matbench(r, main)
        comparison = A.comparison(r, main, results, random_kind).to_dict()
        f.write_json("comparison.json", comparison)
        curves = A.learning_curves(r, main, results)
        if curves:
            f.write_json("learning_curve.json", curves)
            if curves["curves"]:
                plot_curves(curves["curves"], f.file("learning_curve.png"), title=f"{ds.name}: learning curve")
        extra = A.extra_summary(r, results, extra_info)
        if extra:
            f.write_json("extra_splits.json", extra)
        sources = A.per_source(r, main)
        if sources:
            f.write_json("sources.json", sources)
        search = A.search_summary(r, main)
        if search:
            f.write_json("search/summary.json", search)

        t0 = time.perf_counter()
        est, refit = self._refit(r, X, labels)
        f.write_pickle("model.joblib", {
            "model": est, "features": r.features if _plain_features(r.features)
            else cloudpickle.dumps(r.features), "input_type": ds.input_type,
            "task_type": ds.task_type, "labels": labels, "target": ds.target_name,
            "model_name": r.primary, "params": refit["params"], "threshold": refit["threshold"],
            "run_id": r.run_id, "class_labels": ds.class_labels,
            "target_range": None if ds.is_classification else [float(np.min(ds.y())), float(np.max(ds.y()))]})
        timings["refit"] = time.perf_counter() - t0
        timings["total"] = time.perf_counter() - t_start

        finished = _dt.datetime.now().isoformat(timespec="seconds")
        f.write_run_info({
            "run_id": r.run_id, "task": ds.name, "status": "finished", "started": started,
            "finished": finished, "timings": timings, "versions": package_versions(),
            "machine": machine_info(), "primary_model": r.primary, "primary_metric": r.metric,
            "seed": c.seed, "n_jobs": c.n_jobs, "threads": c.threads, "cluster": c.cluster,
            "data_sha256": r.data_sha256, "split": split,
            "models": {n: e.record() for n, e in r.models.items()},
            "fit_seconds_by_kind": A.fit_seconds_by_kind(results)})
        result = RunResult(r.run_id, f.path, c, scores, summary, preds, timings, split,
                           comparison=comparison, learning_curve=curves, extra_splits=extra)
        write_summary_html(result, ds)
        prim = summary.get(r.primary, {}).get(r.metric, {"mean": float("nan"), "std": float("nan")})
        db.record_run(r.run_id, task=ds.name, status="finished", finished=finished,
                      wall_seconds=timings["total"], primary_mean=prim["mean"], primary_std=prim["std"])
        db.record_fold_scores(r.run_id, [(x.model, x.fold, k, v, x.fit_seconds)
                                         for x in main for k, v in x.scores.items()])
        db.record_timings(r.run_id, timings)
        return result

    def _split(self, r: ResolvedRun, X):
        c, ds, f = r.config, r.dataset, r.folder
        split = r.split
        folds = make_splits(split, ds, n_folds=c.n_folds, seed=c.seed, X=X)
        split_name = describe_split(split)
        info = fold_info(split_name, folds, ds)
        if split == "official":
            info["verified_against_official"] = bool(verify_official_folds(ds.name, ds.y()))
            if not info["verified_against_official"]:
                raise RuntimeError(f"Regenerated folds for {ds.name} differ from the official ones; "
                                   "were the rows reordered or filtered?")
        f.write_json("folds.json", info)
        extra_folds, extra_info = {}, {}
        for sp in c.extra_splits:
            if sp == split_name:
                continue
            extra_folds[sp] = make_splits(sp, ds, n_folds=c.n_folds, seed=c.seed, X=X)
            extra_info[sp] = fold_info(sp, extra_folds[sp], ds)
            f.write_json(f"splits/{sp}/folds.json", extra_info[sp])
        return split_name, folds, extra_folds, extra_info

    def _run_folds(self, r, todo, done, X, X_random, labels, progress) -> list[FoldResult]:
        c = r.config
        if done:
            say(f"resuming: {len(done)} finished fold results read from {r.folder.path}")
        if not todo:
            return done
        todo = sorted(todo, key=lambda s: -s.cost) if c.n_jobs > 1 or c.cluster else todo
        jobs = payloads(r, todo, X, X_random, labels)
        with progress_bar(progress, "folds x models", total=len(todo)) as tick:
            new = run_jobs(run_fold_job, jobs, n_jobs=c.n_jobs, cluster=c.cluster,
                           on_done=lambda _: tick(), n_total=len(todo))
        return done + new

    def _refit(self, r: ResolvedRun, X, labels):
        """The primary model on all rows, tuned (if searched) by inner CV on all rows."""
        c, ds = r.config, r.dataset
        y = ds.y()
        entry = r.models[r.primary]
        params, threshold = {}, None
        if r.primary in searched_models(r):
            rec = search_params(entry, ds.task_type, X, y, strategy=c.search,
                                n_trials=c.search_trials, seconds=c.search_seconds,
                                inner_folds=c.search_inner_folds, seed=c.seed,
                                path=r.folder.search_path(r.primary, "all_rows"),
                                feature_names=labels)
            params = dict(rec["best"]["params"] or {})
        est = entry.build(ds.task_type, c.seed, feature_names=labels, **params).fit(X, y)
        if ds.is_classification and c.threshold != "none" and r.primary != "dummy":
            own = getattr(est, "threshold_", None)  # ``auto`` chose its own on inner predictions
            threshold = dict(own) if isinstance(own, dict) and "threshold" in own else choose_threshold(
                entry, ds.task_type, params, X, y, c.seed, feature_names=labels)
        return est, {"params": params, "threshold": threshold}


def _plain_features(f) -> bool:
    return isinstance(f, str) or (isinstance(f, list) and all(isinstance(x, str) for x in f))


def _dataset_info(ds: Dataset, sha: str) -> dict:
    return {"name": ds.name, "n_rows": len(ds), "input_type": ds.input_type,
            "task_type": ds.task_type, "target": ds.target_name, "unit": ds.unit,
            "source": {k: v for k, v in ds.source.items() if k != "dropped_rows"},
            "dropped_rows": ds.source.get("dropped_rows", []), "content_sha256": sha}


def fold_info(split: str, folds, ds: Dataset) -> dict:
    partition = is_partition(folds, len(ds))
    info = {"split": split, "description": SPLITS.get(split, split), "n_folds": len(folds),
            "n_rows": len(ds), "partition": partition,
            "fold_sizes": [{"fold": k, "n_train": int(len(tr)), "n_test": int(len(te))}
                           for k, (tr, te) in enumerate(folds)]}
    if partition:
        labels = np.full(len(ds), -1, dtype=int)
        for k, (_, test) in enumerate(folds):
            labels[test] = k
        info["test_fold"] = labels.tolist()
    else:
        info["test_indices"] = [np.asarray(te).tolist() for _, te in folds]
    try:
        info["overlap"] = split_overlap(ds, folds)
    except Exception as exc:  # noqa: BLE001 - overlap is a report, not a reason to stop
        info["overlap"] = {"error": f"{type(exc).__name__}: {exc}"}
    return info


def load_run(path) -> RunResult:
    """Re-open a finished run folder (from any working folder)."""
    f = RunFolder(path)
    f.require_finished()
    info = f.run_info()
    opt = {k: f.read_json(n, default={}) or {} for k, n in
           (("comparison", "comparison.json"), ("learning_curve", "learning_curve.json"),
            ("extra_splits", "extra_splits.json"))}
    return RunResult(info.get("run_id", f.path.name), f.path, f.read_config(), f.scores(),
                     f.summary(), f.predictions(), info.get("timings", {}),
                     f.folds_info().get("split", ""), **opt)
