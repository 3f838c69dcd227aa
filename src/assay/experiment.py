"""The one core behind both faces of assay: ``assay run`` and ``assay.Experiment(...).run()``.

Data flows one way: load -> audit -> featurise -> split -> (clean, fit, predict) per fold ->
score -> write the run folder. Each finished fold is persisted as it completes, so a killed
run started again continues where it stopped and gives the same numbers.
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
from .evaluation.splitters import default_split, make_splits
from .models.zoo import get_model_spec, make_model
from .store.atomic import atomic_write_json, atomic_write_text, read_json
from .store.database import RunDatabase
from .ui import progress_bar, say


def package_versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("assay", "numpy", "pandas", "scikit-learn", "scipy", "pymatgen", "matminer",
                "lightgbm", "optuna", "matplotlib", "joblib"):
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

    def table(self, metric: str | None = None) -> pd.DataFrame:
        """Fold mean and std of each model for one metric (the primary one by default)."""
        rows = []
        for model, s in self.summary.items():
            m = metric or next(iter(s))
            rows.append({"model": model, "metric": m, "mean": s[m]["mean"], "std": s[m]["std"]})
        return pd.DataFrame(rows)


def _fit_predict_fold(model_name: str, task_type: str, seed: int, n_jobs: int, X_train, y_train,
                      X_test) -> tuple[np.ndarray, np.ndarray | None, float]:
    t0 = time.perf_counter()
    est = make_model(model_name, task_type, seed=seed, n_jobs=n_jobs)
    est.fit(X_train, y_train)
    fit_s = time.perf_counter() - t0
    pred = est.predict(X_test)
    proba = None
    if task_type == "classification" and hasattr(est, "predict_proba"):
        p = est.predict_proba(X_test)
        classes = list(getattr(est, "classes_", [0, 1]))
        proba = p[:, classes.index(1)] if 1 in classes else np.zeros(len(X_test))
    return np.asarray(pred), proba, fit_s


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
    """One (model, fold): clean the training rows, fit, predict the test rows, persist."""
    X, y, ids = job["X"], job["y"], job["ids"]
    train, test = job["train"], job["test"]
    train, y_train, clean_log = _clean_training_rows(job["dataset"], train, y, job["cleaning"])
    pred, proba, fit_s = _fit_predict_fold(job["model"], job["task_type"], job["seed"],
                                           job["n_jobs"], X[train], y_train, X[test])
    scores = M.score(job["task_type"], y[test], pred, proba)
    out = {"model": job["model"], "fold": job["fold"], "scores": scores, "fit_seconds": fit_s,
           "n_train": int(len(train)), "n_test": int(len(test)), "cleaning": clean_log,
           "ids": [str(i) for i in ids[test]], "y_true": y[test].tolist(),
           "y_pred": pred.tolist(), "y_proba": None if proba is None else proba.tolist()}
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
        for m in c.models:
            get_model_spec(m)  # fail fast on unknown names

        t0 = time.perf_counter()
        ds = self.dataset or self.load_data(progress=progress)
        timings["load"] = time.perf_counter() - t0
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

        # -- splits ---------------------------------------------------------------------
        split = default_split(ds) if c.split == "auto" else c.split
        folds = make_splits(split, ds, n_folds=c.n_folds, seed=c.seed)
        fold_info = {"split": split, "n_folds": len(folds),
                     "test_fold": _fold_labels(folds, len(ds)).tolist()}
        if split == "official":
            from .data.folds import verify_official_folds

            fold_info["verified_against_official"] = bool(verify_official_folds(ds.name, ds.y()))
            if not fold_info["verified_against_official"]:
                raise RuntimeError(f"Regenerated folds for {ds.name} differ from the official ones; "
                                   "were the rows reordered or filtered?")
        atomic_write_json(run_dir / "folds.json", fold_info)

        # -- audit ----------------------------------------------------------------------
        t0 = time.perf_counter()
        with progress_bar(progress, "audit") as tick:
            self._audit(ds, folds, run_dir)
            tick()
        timings["audit"] = time.perf_counter() - t0

        # -- features -------------------------------------------------------------------
        from .features import featurize

        t0 = time.perf_counter()
        fs = featurize(ds.inputs, c.features, input_type=ds.input_type, n_jobs=c.n_jobs,
                       progress=progress)
        timings["featurize"] = time.perf_counter() - t0
        atomic_write_json(run_dir / "features.json", {
            "preset": fs.preset, "n_features": fs.X.shape[1], "labels": fs.labels,
            "seconds": fs.seconds, "from_cache": fs.from_cache, "citations": fs.citations,
            "failed": fs.failed.to_dict(orient="records"),
            "note": "Features are computed per row from that row alone, so featurising before "
                    "splitting cannot leak; scaling and imputation are fitted inside each fold."})
        if len(fs.failed):
            say(f"[yellow]{len(fs.failed)} rows could not be fully featurised; see features.json[/]")
        X = fs.X.to_numpy(dtype=float)
        y = ds.y()
        ids = np.asarray(ds.ids)

        # -- folds x models (persisted, resumable, parallel) ---------------------------
        t0 = time.perf_counter()
        results = self._run_jobs(ds, X, y, ids, folds, run_dir, progress)
        timings["folds"] = time.perf_counter() - t0

        # -- aggregate ------------------------------------------------------------------
        scores, summary, preds = self._aggregate(results)
        atomic_write_text(run_dir / "scores.csv", scores.to_csv(index=False))
        atomic_write_json(run_dir / "summary.json", summary)
        preds.to_parquet(run_dir / "predictions.parquet.tmp", index=False)
        Path(run_dir / "predictions.parquet.tmp").replace(run_dir / "predictions.parquet")
        self._write_matbench(ds, results, run_dir)

        # -- refit the primary model on all rows, for `assay predict` ----------------------
        t0 = time.perf_counter()
        est = make_model(c.primary, ds.task_type, seed=c.seed, n_jobs=c.n_jobs).fit(X, y)
        joblib.dump({"model": est, "features": c.features, "input_type": ds.input_type,
                     "task_type": ds.task_type, "labels": fs.labels, "target": ds.target_name,
                     "model_name": c.primary}, run_dir / "model.joblib.tmp")
        Path(run_dir / "model.joblib.tmp").replace(run_dir / "model.joblib")
        timings["refit"] = time.perf_counter() - t0
        timings["total"] = time.perf_counter() - t_start

        pm = self._primary_metric(ds)
        run_info = {"run_id": self.run_id, "task": ds.name, "status": "finished",
                    "started": started, "finished": _dt.datetime.now().isoformat(timespec="seconds"),
                    "timings": timings, "versions": package_versions(), "machine": machine_info(),
                    "primary_model": c.primary, "primary_metric": pm, "seed": c.seed}
        atomic_write_json(run_dir / "run.json", run_info)
        result = RunResult(self.run_id, run_dir, c, scores, summary, preds, timings, split)
        from .report.summary import write_summary_html

        write_summary_html(result, ds)
        prim = summary.get(c.primary, {}).get(pm, {"mean": float("nan"), "std": float("nan")})
        db.record_run(self.run_id, task=ds.name, status="finished", finished=run_info["finished"],
                      wall_seconds=timings["total"], primary_mean=prim["mean"], primary_std=prim["std"])
        db.record_fold_scores(self.run_id, [(r["model"], r["fold"], k, v, r["fit_seconds"])
                                            for r in results for k, v in r["scores"].items()])
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

    def _audit(self, ds: Dataset, folds, run_dir: Path) -> None:
        try:
            from .data.audit import audit
        except ImportError:  # pragma: no cover - audit module is part of the package
            return
        report = audit(ds, folds=folds, out_dir=run_dir / "audit")
        atomic_write_json(run_dir / "audit" / "audit.json", report.to_dict())

    def _run_jobs(self, ds, X, y, ids, folds, run_dir, progress) -> list[dict]:
        c = self.config
        jobs, done = [], []
        for model in c.models:
            for k, (train, test) in enumerate(folds):
                path = run_dir / "folds" / model / f"fold_{k}.json"
                if path.is_file():
                    done.append(read_json(path))
                    continue
                jobs.append({"model": model, "fold": k, "task_type": ds.task_type, "seed": c.seed,
                             "n_jobs": 1, "X": X, "y": y, "ids": ids,
                             "train": train, "test": test, "path": path, "dataset": ds,
                             "cleaning": c.cleaning})
        if done:
            say(f"resuming: {len(done)} finished folds read from {run_dir / 'folds'}")
        if not jobs:
            return done
        with progress_bar(progress, "folds x models", total=len(jobs)) as tick:
            if c.n_jobs > 1:
                par = joblib.Parallel(n_jobs=c.n_jobs, return_as="generator_unordered")
                for r in par(joblib.delayed(_run_fold_job)(j) for j in jobs):
                    done.append(r)
                    tick()
            else:
                for j in jobs:
                    done.append(_run_fold_job(j))
                    tick()
        return done

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
    return RunResult(info["run_id"], path, c, pd.read_csv(path / "scores.csv"),
                     read_json(path / "summary.json"), pd.read_parquet(path / "predictions.parquet"),
                     info.get("timings", {}), read_json(path / "folds.json")["split"])
