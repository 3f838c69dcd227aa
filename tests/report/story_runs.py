"""Tiny finished runs for the report-story tests: a classification run on your own data whose
decision threshold is chosen per training fold (with a random-feature control and a learning
curve), built once per session and shared between xdist workers through a file lock."""
from __future__ import annotations

import dataclasses
from pathlib import Path


def _build(out: Path) -> Path:
    import pandas as pd

    from assay import Experiment
    from assay.data.loading import load_task
    from assay.run.config import RunConfig

    out.mkdir(parents=True, exist_ok=True)
    ds = load_task("expt_is_metal")
    df = pd.DataFrame({"formula": [str(x) for x in ds.inputs], "is_metal": ds.y().astype(int)})
    df = pd.concat([df[df.is_metal == 1].head(90), df[df.is_metal == 0].head(60)]).sample(
        frac=1, random_state=0)
    csv = out / "metals.csv"
    df.to_csv(csv, index=False)
    known = {f.name for f in dataclasses.fields(RunConfig)}
    extra = {k: v for k, v in {"controls": ["random-features"], "learning_curve": False,
                               "threshold": "balanced_accuracy"}.items() if k in known}
    res = Experiment(data=str(csv), target="is_metal", models=["dummy", "lgbm"],
                     out_dir=str(out / "runs"), n_jobs=1, **extra).run(progress=False)
    return res.path


def threshold_run(base: Path) -> Path:
    from filelock import FileLock

    base.mkdir(parents=True, exist_ok=True)
    done = base / "cls-threshold.done"
    with FileLock(str(base / "cls-threshold.lock")):
        if not done.is_file():
            done.write_text(str(_build(base / "cls-threshold")))
    return Path(done.read_text())
