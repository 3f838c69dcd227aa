"""Everything a report needs from a finished run folder, read once and tolerant of absences.

The core artifacts (config.toml, run.json, scores.csv, predictions.parquet, ...) are required;
the artifacts later stages add (comparison.json, learning_curve.json, search/, trust/, extra
splits) are optional: ``None`` (or empty) when the step was not run. Nothing here computes a
score that is not derived from what is on disk.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.tasks import get_task, primary_metric
from ..errors import RunFolderError
from ..evaluation.metrics import CLASSIFICATION_METRICS, HIGHER_IS_BETTER, REGRESSION_METRICS
from ..models.zoo import ZOO
from ..run.folder import RunFolder, sha256_file
from ..run.resolve import load_dataset

__all__ = ["RunData", "RunFolderError", "sha256_file"]

#: Trust artifacts (written by ``assay explain RUN``) that the report knows by name.
TRUST_JSON = ("importance.json", "surrogate.json", "uncertainty.json", "domain.json")
TRUST_PNG = ("shap_summary.png", "calibration.png", "error_vs_distance.png", "reliability.png")


@dataclass
class RunData:
    path: Path

    def __post_init__(self):
        self.folder = RunFolder(self.path)
        self.path = self.folder.path
        self.folder.require_finished()
        with open(self.path / "config.toml", "rb") as fh:
            self.config: dict = tomllib.load(fh)
        f = self.folder
        self.run: dict = f.run_info()
        self.dataset: dict = f.dataset_info()
        self.folds: dict = f.read_json("folds.json", default={}) or {}
        self.features: dict = f.read_json("features.json", default={}) or {}
        self.audit: dict | None = f.read_json("audit/audit.json")
        self.summary: dict = f.summary()
        self.scores: pd.DataFrame = f.scores()
        self.predictions: pd.DataFrame = f.predictions()

    # -- identity ---------------------------------------------------------------------------
    @property
    def preset(self) -> str:
        """The feature preset actually used ("auto" in the config resolves per input type)."""
        return self.features.get("preset") or self.config.get("features", "")

    @property
    def run_id(self) -> str:
        return self.run.get("run_id", self.path.name)

    @property
    def task_type(self) -> str:
        return self.dataset.get("task_type", "regression")

    @property
    def is_classification(self) -> bool:
        return self.task_type == "classification"

    @property
    def primary_model(self) -> str:
        if self.run.get("primary_model"):
            return self.run["primary_model"]
        return self.folder.read_config().primary

    @property
    def primary_metric(self) -> str:
        return self.run.get("primary_metric") or primary_metric(self.task_type)

    @property
    def models(self) -> list[str]:
        """The models' names as the run used them (a reference ``my_models:make_model`` is the
        model ``make_model``), in the declared order."""
        return list(self.run.get("models") or self.summary or self.config.get("models"))

    @property
    def target(self) -> str:
        return self.dataset.get("target", "target")

    @property
    def unit(self) -> str:
        return self.dataset.get("unit") or ""

    @property
    def target_label(self) -> str:
        return self.target + (f" ({self.unit})" if self.unit else "")

    @cached_property
    def task(self):
        """The Matbench Task, or None for the user's own data."""
        name = self.config.get("task")
        if not name:
            return None
        try:
            return get_task(name)
        except KeyError:
            return None

    @property
    def split(self) -> str:
        return self.folds.get("split", self.config.get("split", "?"))

    @property
    def n_folds(self) -> int:
        return int(self.folds.get("n_folds") or self.scores["fold"].nunique())

    @property
    def test_fold(self) -> np.ndarray | None:
        tf = self.folds.get("test_fold")
        return None if tf is None else np.asarray(tf, dtype=int)

    @property
    def higher_is_better(self) -> bool:
        return self.primary_metric in HIGHER_IS_BETTER

    def metric_list(self) -> list[str]:
        first = next(iter(self.summary.values()), {})
        pref = CLASSIFICATION_METRICS if self.is_classification else REGRESSION_METRICS
        ordered = [self.primary_metric] + [m for m in pref if m != self.primary_metric]
        return [m for m in ordered if m in first]

    def is_baseline(self, model: str) -> bool:
        rec = (self.run.get("models") or {}).get(model)
        if rec is not None and rec.get("kind") != "zoo":
            return False  # the user's own model is a contender, never a baseline
        spec = ZOO.get(rec["text"] if rec else model)
        return bool(spec and spec.is_baseline)

    # -- optional artifacts from later stages -------------------------------------------
    def optional_json(self, rel: str):
        return self.folder.read_json(rel)

    @cached_property
    def comparison(self) -> dict | None:
        return self.optional_json("comparison.json")

    @cached_property
    def learning_curve(self) -> dict | None:
        return self.optional_json("learning_curve.json")

    @cached_property
    def search(self) -> dict[str, list[dict]]:
        """model -> per-fold search records (search/<model>/fold_<k>.json), fold order."""
        out: dict[str, list[dict]] = {}
        root = self.path / "search"
        if not root.is_dir():
            return out
        for mdir in sorted(p for p in root.iterdir() if p.is_dir()):
            recs = []
            for f in sorted(mdir.glob("fold_*.json"), key=lambda p: _fold_no(p.stem)):
                d = self.folder.read_json(f)
                if isinstance(d, dict):
                    d.setdefault("fold", _fold_no(f.stem))
                    recs.append(d)
            if recs:
                out[mdir.name] = recs
        return out

    @cached_property
    def extra_splits(self) -> dict[str, dict]:
        """Splits run beside the main one (e.g. leave-chemical-system-out): name ->
        {"summary": {model: {metric: {mean, std}}}, "n_folds", "overlap", "description",
        "per_fold": DataFrame (model, fold, metrics)}. From ``extra_splits.json`` and
        ``splits/<name>/``; empty when no extra split was run."""
        out: dict[str, dict] = {}
        ej = self.optional_json("extra_splits.json")
        if isinstance(ej, dict):
            for name, d in ej.items():
                if isinstance(d, dict):
                    out[name] = {"summary": d.get("summary") or {}, "n_folds": d.get("n_folds"),
                                 "overlap": d.get("overlap")}
        sdir = self.path / "splits"
        if sdir.is_dir():
            for p in sorted(x for x in sdir.iterdir() if x.is_dir()):
                rows = []
                for f in sorted(p.glob("folds/*/fold_*.json")):
                    d = self.folder.read_json(f) or {}
                    if isinstance(d.get("scores"), dict):
                        rows.append({"model": d.get("model", f.parent.name),
                                     "fold": d.get("fold", _fold_no(f.stem)), **d["scores"]})
                entry = out.setdefault(p.name, {"summary": {}, "n_folds": None, "overlap": None})
                info = self.folder.read_json(p / "folds.json") or {}
                entry["description"] = info.get("description", "")
                entry["n_folds"] = entry.get("n_folds") or info.get("n_folds")
                entry["overlap"] = entry.get("overlap") or info.get("overlap")
                if rows:
                    df = pd.DataFrame(rows)
                    entry["per_fold"] = df
                    if not entry["summary"]:
                        entry["summary"] = {
                            m: {k: {"mean": float(np.nanmean(g[k])), "std": float(np.nanstd(g[k]))}
                                for k in g.columns if k not in ("model", "fold")
                                and pd.api.types.is_numeric_dtype(g[k])}
                            for m, g in df.groupby("model")}
        return {k: v for k, v in out.items() if v.get("summary")}

    @cached_property
    def trust(self) -> dict:
        """trust/ artifacts: {'json': {name: data}, 'png': {name: path}}; empty when not run."""
        root = self.path / "trust"
        out: dict = {"json": {}, "png": {}, "other_json": {}, "other_png": {}}
        if not root.is_dir():
            return out
        for p in sorted(root.glob("*.json")):
            d = self.folder.read_json(p)
            if d is not None:
                out["json" if p.name in TRUST_JSON else "other_json"][p.name] = d
        for p in sorted(root.glob("*.png")):
            out["png" if p.name in TRUST_PNG else "other_png"][p.name] = p
        for p in sorted(root.glob("*.svg")):
            out["other_png"][p.name] = p
        return out

    # -- derived --------------------------------------------------------------------------
    @cached_property
    def cleaning_logs(self) -> list[dict]:
        """Per-fold cleaning logs of the primary model's folds (cleaning acts on training rows)."""
        out = []
        mdir = self.path / "folds" / self.primary_model
        for f in sorted(mdir.glob("fold_*.json"), key=lambda p: _fold_no(p.stem)):
            d = self.folder.read_json(f) or {}
            if d.get("cleaning"):
                out.append({"fold": d.get("fold", _fold_no(f.stem)), "log": d["cleaning"]})
        return out

    @cached_property
    def inputs(self) -> dict[str, str] | None:
        """id -> composition text (reduced formula for structures); None if the data cannot
        be reloaded (the report then shows ids only)."""
        try:
            ds = load_dataset(self.folder.read_config(), progress=False)
        except Exception:  # noqa: BLE001 - the data may have moved; the report says so
            return None
        out = {}
        for i, item in zip(ds.ids, ds.inputs):
            if hasattr(item, "composition"):
                try:
                    out[str(i)] = item.composition.reduced_formula
                    continue
                except Exception:  # noqa: BLE001
                    pass
            out[str(i)] = str(item)
        return out

    def fold_table(self, metric: str | None = None) -> pd.DataFrame:
        """model x fold table of one metric."""
        m = metric or self.primary_metric
        order = [x for x in self.models if x in set(self.scores["model"])]
        t = self.scores.pivot(index="model", columns="fold", values=m)
        return t.reindex(order)

    def preds(self, model: str | None = None) -> pd.DataFrame:
        return self.predictions[self.predictions["model"] == (model or self.primary_model)]

    def file_checksums(self) -> dict[str, str]:
        out = {}
        for rel in ("predictions.parquet", "results.json.gz", "scores.csv", "summary.json",
                    "config.toml", "model.joblib"):  # the files a reviewer would check
            p = self.path / rel
            if p.is_file():
                out[rel] = sha256_file(p)
        return out


def _fold_no(stem: str) -> int:
    try:
        return int(stem.rsplit("_", 1)[-1])
    except ValueError:
        return 0
