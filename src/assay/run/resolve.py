"""Step 1 of a run: from what the user asked (a RunConfig) to what will run (a ResolvedRun).

Loads the data, turns every model into a ModelEntry (zoo, reference, estimator, factory),
declares the primary model before any test fold is seen, and names the run by a digest of the
config *and the data's content*: edit the data file and the same command makes a new run instead
of resuming folds computed on the old data.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.dataset import Dataset
from ..data.loading import load_task
from ..data.tasks import primary_metric
from ..data.transforms import TARGET_TRANSFORMS
from ..data.sources import load_sources
from ..data.user import load_user_data
from ..errors import PluginError
from ..evaluation.forward import ForwardSplit
from ..evaluation.splitters import COLUMN_PREFIX, SPLITS, default_split
from ..evaluation.metrics import HIGHER_IS_BETTER
from ..references import entry_points, is_reference, resolve, ship_by_value
from ..models.entries import ModelEntry, check_task_type, resolve_models
from ..models.zoo import available_models
from .config import RunConfig, check_run_name
from .folder import RunFolder


def load_dataset(c: RunConfig, progress: bool = True) -> Dataset:
    """The Dataset a config names (a Matbench task, or the user's file)."""
    if c.task:
        return load_task(c.task, c.data, progress=progress)
    if isinstance(c.data, list):
        return load_sources(c.data, c.target, policy=c.merge, input_column=c.input_column,
                            id_column=c.id_column, task_type=c.task_type,
                            structures_dir=c.structures_dir, drop_invalid=c.drop_invalid)
    return load_user_data(c.data, c.target, input_column=c.input_column, id_column=c.id_column,
                          task_type=c.task_type, structures_dir=c.structures_dir,
                          drop_invalid=c.drop_invalid)


def _absolute(v):
    """Paths stored absolute (a list stays a list), so the run works from any folder."""
    if isinstance(v, list):
        return [_absolute(x) for x in v]
    p = Path(v).expanduser()
    return str(p.resolve()) if p.exists() else v


def data_sha256(ds: Dataset) -> str:
    """A hash of the rows themselves (ids, inputs, targets): what the run was computed on."""
    h = hashlib.sha256()
    h.update(pd.util.hash_pandas_object(pd.Series(np.asarray(ds.ids, dtype=str)), index=False).values.tobytes())
    h.update(pd.util.hash_pandas_object(ds.target.reset_index(drop=True).astype(str), index=False).values.tobytes())
    if ds.input_type == "composition":
        h.update(pd.util.hash_pandas_object(ds.inputs.reset_index(drop=True).astype(str),
                                            index=False).values.tobytes())
    else:
        sha = (ds.source or {}).get("sha256")
        if sha:  # the file's own checksum covers every structure; str() of 18,928 cells is slow
            h.update(str(sha).encode())
        else:
            for s in ds.inputs:
                h.update(str(s).encode())
    return h.hexdigest()


@dataclass
class ResolvedRun:
    """Everything a run needs, decided before any fold is fitted."""

    config: RunConfig  # a copy; the caller's config is never changed
    dataset: Dataset
    models: dict[str, ModelEntry]
    primary: str
    metric: str
    data_sha256: str
    run_id: str
    folder: RunFolder
    split: object = None  # a split name, "column:<name>", or a CV splitter object
    features: object = "auto"  # a preset name, or the user's featuriser(s) / callable / table

    @property
    def names(self) -> list[str]:
        return list(self.models)

    @property
    def higher_is_better(self) -> bool:
        return self.metric in HIGHER_IS_BETTER


def resolve_run(config: RunConfig, dataset: Dataset | None = None, progress: bool = True,
                objects: dict | None = None) -> ResolvedRun:
    c = config.materialise(objects)  # plugin records from config.toml -> objects (or a named error)
    paths = {k: _absolute(v) for k in ("data", "structures_dir") if (v := getattr(c, k))}
    if paths:  # stored absolute: predict, explain and report work from any folder
        c = c.replace(**paths)
    ds = dataset if dataset is not None else load_dataset(c, progress=progress)
    primary_declared = c.primary_model
    if not isinstance(c.models, dict) and list(c.models) == ["all"]:
        c = c.replace(models=available_models(ds.task_type),
                      primary_model=primary_declared or "lgbm")
    models = resolve_models(c.models, c.search_spaces)
    if c.target_transform != "none":
        if ds.is_classification:
            raise PluginError("target_transform applies to regression targets only")
        TARGET_TRANSFORMS[c.target_transform](c.target_shift).check(ds.y(), ids=list(ds.ids))
    for e in models.values():
        e.target_transform = None if c.target_transform == "none" else (c.target_transform, c.target_shift)
        e.feature_clip = c.clip_features
        check_task_type(e, ds.task_type, c.seed)
    primary = c.primary_model or c.primary
    if primary not in models:
        raise PluginError(f"primary model {primary!r} is not among the models: {', '.join(models)}")
    if c.primary_model is None:
        c = c.replace(primary_model=primary)
    for name in (c.search_models or []):
        if name not in models:
            raise PluginError(f"search_models names {name!r}, which is not among the models")
    if len(ds) < 2:
        raise PluginError(f"{c.data or c.task}: {len(ds)} row(s); a model needs at least 2 rows "
                          "(and a test fold)")
    if isinstance(c.split, str) and c.split in ("auto", "kfold", "stratified", "group", "loco",
                                                "cluster") and len(ds) < c.n_folds:
        raise PluginError(f"{c.data or c.task}: {len(ds)} rows for {c.n_folds} folds; pass "
                          f"--n-folds {max(2, len(ds))} (or n_folds in config.toml), or --split loo")
    split = resolve_split(c.split, ds, c.n_folds)
    features = resolve_features(c.features)
    for obj in [split, *(features if isinstance(features, list) else [features])]:
        if not isinstance(obj, str):
            ship_by_value(obj)
    for sp in c.extra_splits:
        resolve_split(sp, ds, c.n_folds)
    sha = data_sha256(ds)
    if c.name:
        check_run_name(c.name)
    first = c.data[0] if isinstance(c.data, list) else c.data
    stem = c.name or (c.task.removeprefix("matbench_") if c.task else Path(str(first)).stem
                      + ("+more" if isinstance(c.data, list) and len(c.data) > 1 else ""))
    run_id = f"{stem}-{c.digest(sha)}"
    out = Path(c.out_dir).expanduser().resolve()
    folder = RunFolder(out / run_id)
    if folder.path.parent != out:  # belt and braces: the name was checked above
        raise PluginError(f"run folder {folder.path} would leave {out}")
    return ResolvedRun(c, ds, models, primary, primary_metric(ds.task_type), sha, run_id, folder,
                       split, features)


def resolve_features(spec):
    """Preset names stay names; references and entry-point names become the user's featuriser
    (a class is instantiated with no arguments); lists are resolved item by item."""
    if isinstance(spec, (list, tuple)):
        return [resolve_features(x) for x in spec]
    if isinstance(spec, str) and (is_reference(spec) or spec in entry_points("featurizer")):
        obj = resolve(spec, "featurizer").obj
        return obj() if isinstance(obj, type) else obj
    return spec


def resolve_split(spec, ds: Dataset, n_folds: int = 5):
    """A split name (checked now, before anything is written), ``column:<name>``,
    ``forward:<order column>``, a reference to the user's splitter (a class is instantiated with
    no arguments), or a splitter object."""
    if isinstance(spec, str):
        if spec == "auto":
            return default_split(ds)
        if spec == "sources":  # leave-one-source-out, for data from several files
            if ds.extra is None or "source" not in ds.extra:
                raise PluginError("split 'sources' needs several data files (assay run a.csv b.csv ...)")
            return COLUMN_PREFIX + "source"
        if spec.startswith("forward:"):
            col = spec.split(":", 1)[1]
            if ds.extra is None or col not in ds.extra:
                raise PluginError(f"split {spec!r}: the data has no column {col!r} to order the rows by")
            return ForwardSplit(order=ds.extra[col].to_numpy(), n_splits=n_folds)
        if spec.startswith(COLUMN_PREFIX) or spec in SPLITS:
            return spec
        if is_reference(spec):
            obj = resolve(spec, "splitter").obj
            obj = obj() if isinstance(obj, type) else obj
        else:
            if spec not in entry_points("splitter"):
                raise KeyError(f"Unknown split {spec!r}; known: {', '.join(SPLITS)}, column:<name>, "
                               "or your splitter as module:attr")
            obj = resolve(spec, "splitter").obj
            obj = obj() if isinstance(obj, type) else obj
        spec = obj
    if not (hasattr(spec, "split") and hasattr(spec, "get_n_splits")):
        raise PluginError(f"split {spec!r} is not a cross-validator (needs split() and get_n_splits())")
    return spec


def searched_models(r: ResolvedRun) -> list[str]:
    """Models the nested search tunes: those named, else every non-baseline with a space."""
    c = r.config
    if c.search == "none":
        return []
    names = r.names if c.search_models is None else [m for m in c.search_models if m in r.models]
    return [m for m in names if r.models[m].search_space
            and (c.search_models is not None or not r.models[m].is_baseline)]
