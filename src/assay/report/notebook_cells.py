"""The cells of ``RUN/report.ipynb``: markdown and code primitives, and one function per step.

Code cells are templates in which ``@NAME@`` stands for a value written as a Python literal
(``repr``): run folders, model names and task names come from the user and must land in the
code as data, never as code. Markdown goes through :func:`md` (raw HTML neutralised).
"""
from __future__ import annotations

import re

from ..run.recipes import RECIPES
from .builder import ReportBuilder, Section


def md(text: str) -> dict:
    """A markdown cell. Raw HTML is neutralised: column names and ids come from the user's data,
    and a crafted one (``<img onerror=...>``) must show as text, not run in the viewer."""
    safe = text.strip("\n").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return {"cell_type": "markdown", "metadata": {}, "source": safe}


def md_text(value) -> str:
    """User text (a column name, an id) as literal markdown: its markup characters escaped."""
    out = str(value)
    for ch in "\\`*_{}[]()#+!|":
        out = out.replace(ch, "\\" + ch)
    return out


def py_text(text: str) -> str:
    """A Python literal for ``text``: a raw triple-quoted block when it can be (readable),
    else repr (config.toml holds JSON with backslashes, which a plain string would unescape)."""
    body = "\n" + text.strip() + "\n"
    if '"""' not in body and not body.rstrip("\n").endswith("\\"):
        return 'r"""' + body + '"""'
    return repr(body)


def code(src: str, **values) -> dict:
    """A code cell; ``@NAME@`` in ``src`` becomes ``repr(values['NAME'])``."""
    src = src.replace("%ESTIMATOR%", str(values.pop("estimator", "%ESTIMATOR%")))
    for k, v in values.items():
        src = src.replace(f"@{k}@", repr(v))
    left = re.findall(r"@[A-Z_]+@|%ESTIMATOR%", src)
    if left:
        raise ValueError(f"notebook template left unfilled: {left}")
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": src.strip("\n")}


def bullets(sec: Section | None) -> str:
    return "\n".join(f"- {m}" for m in sec.md) if sec else ""


# ------------------------------------------------------------------------------------ steps
def recipe_text(b: ReportBuilder) -> str:
    """The idea of the run's primary model, in plain words (the task's recipe when the run used it)."""
    r = b.run
    rec = RECIPES.get(r.task.name) if r.task else None
    parts = []
    features = r.config.get("features")
    if rec and rec.model == r.primary_model and rec.features == features:
        parts.append(f"This run used assay's recipe for `{md_text(r.task.name)}`: features "
                     f"`{md_text(rec.features)}`, model `{md_text(rec.model)}`. The idea: "
                     f"{md_text(rec.why)}.")
        parts.append("The recipe was designed with cross-validation on design folds, not on the "
                     "official test folds below; it was fixed, as the primary model, before any "
                     "of those test folds was scored.")
    else:
        parts.append(f"The primary model of this run is `{md_text(r.primary_model)}` on features "
                     f"`{md_text(r.preset)}`, declared before any test fold was scored.")
    if r.is_classification and r.config.get("threshold", "balanced_accuracy") != "none":
        parts.append("**Decision threshold.** A classifier gives a probability; the label needs a "
                     "threshold. Inside each outer *training* fold, assay predicts the training rows "
                     "out-of-fold (3 inner folds), picks the threshold on that probability that "
                     "maximises balanced accuracy, and applies it to the test fold, which is never "
                     "seen while choosing. The table below shows each fold's threshold.")
    return "\n\n".join(parts)


SETUP = '''
import json
import os
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from IPython.display import Image, display

import assay
from assay import RunFolder, evaluate_on_run, load_run, load_run_inputs
from assay.errors import PluginError
from assay.run.config import RunConfig

RUN = Path(@RUN@)  # the recorded run: its results, fold files and plots are read, never refitted
CONFIG_TOML = @CONFIG_TOML@
settings = tomllib.loads(CONFIG_TOML)
settings["out_dir"] = str(RUN.parent)
config = RunConfig.from_dict(settings)
try:  # your own models, featurisers and splitters are re-imported from their references
    config = config.materialise()
    print("config.toml alone re-creates this run")
except PluginError as exc:
    print("NOT re-creatable from config.toml alone:", exc)
    print("using the objects the run pickled (RUN/plugins.pkl) instead")
    config = config.materialise(RunFolder(RUN).load_pickle("plugins.pkl"))
folder = RunFolder(RUN)
run = load_run(RUN)  # the recorded results: scores, summary, predictions, comparison, curves
PRIMARY, METRIC = @PRIMARY@, folder.primary_metric
N_JOBS = min(2, os.cpu_count() or 1) if folder.dataset_info()["n_rows"] > 1000 else 1  # processes
print(f"run {run.run_id}: models {', '.join(run.summary)}; primary {PRIMARY}; metric {METRIC}")
'''

LOAD = '''
data = load_run_inputs(RUN)  # the run's rows, features and folds; nothing is refitted
ds, X, y, folds = data.dataset, data.X, data.y, data.folds
print(f"{ds.name}: {len(ds)} rows, {ds.input_type} -> {ds.target_name} ({ds.task_type})")
pd.DataFrame({"id": list(ds.ids[:5]), "input": [str(v) for v in ds.inputs[:5]], "target": y[:5]})
'''

AUDIT = '''
from assay.data.audit import AuditReport
from assay.data.findings import key_findings

audit = AuditReport(**folder.read_json("audit/audit.json"))  # what the run's audit found
print("\\n".join(audit.summary()))
for finding in key_findings(audit):
    print("finding:", finding.message, "->", finding.remedy)
for png in sorted((RUN / "audit").glob("*.png")):
    display(Image(filename=str(png)))
'''

FEATURES = '''
how = "read from the feature cache" if data.features_from_cache else "recomputed (no cached copy)"
print(f"X: {X.shape[0]} rows x {X.shape[1]} features, {how} in {data.features_seconds:.1f} s")
data.frame().iloc[:5, :8]
'''

FOLDS = '''
print(f"split {data.split!r}: {len(folds)} outer folds, checked against RUN/folds.json")
data.fold_table()
'''

BASELINES = '''
recorded = run.table(METRIC).set_index("model")  # mean and std over the outer folds
recorded["spread (std/mean)"] = recorded["std"] / recorded["mean"].abs()
display(recorded)
tests = pd.DataFrame(run.comparison.get("rows", []))  # paired tests over the folds, recorded
if len(tests):
    display(tests[["model", "versus", "kind", "mean_model", "mean_versus", "folds_better",
                   "p_ttest", "verdict"]])
'''

RECIPE = '''
primary_folds = [x for x in folder.fold_results("main") if x.model == PRIMARY]
pd.DataFrame([{"fold": x.fold, METRIC: x.metric(METRIC), "n_train": x.n_train, "n_test": x.n_test,
               "threshold": (x.threshold or {}).get("threshold"),
               "fit seconds": x.fit_seconds} for x in primary_folds]).set_index("fold")
'''

RECIPE_PLOT_REG = '''
p = run.predictions[run.predictions["model"] == PRIMARY]
fig, ax = plt.subplots(figsize=(4.5, 4))
ax.scatter(p["y_true"], p["y_pred"], s=8, c=p["fold"], cmap="tab10")
lo, hi = p[["y_true", "y_pred"]].min().min(), p[["y_true", "y_pred"]].max().max()
ax.plot([lo, hi], [lo, hi], "k-", lw=1)
ax.set_xlabel("measured"); ax.set_ylabel("predicted (test folds)"); ax.set_title(PRIMARY)
display(fig); plt.close(fig)
'''

RECIPE_PLOT_CLS = '''
from sklearn.metrics import ConfusionMatrixDisplay

p = run.predictions[run.predictions["model"] == PRIMARY]
shown = ConfusionMatrixDisplay.from_predictions(p["y_true"].astype(int), p["y_pred"].astype(int))
shown.ax_.set_title(f"{PRIMARY}, test folds")
display(shown.figure_); plt.close(shown.figure_)
'''

YOUR_MODEL = '''
# ============================== YOUR MODEL HERE ==============================
# Any scikit-learn estimator (a Pipeline too). Edit it, then run this cell and the next ones.
from sklearn.ensemble import %ESTIMATOR%

my_model = %ESTIMATOR%(random_state=0)
# ==============================================================================
mine = evaluate_on_run(data, my_model, name="my model", n_jobs=N_JOBS)
print(f"my model: {METRIC} per fold:",
      ", ".join(f"fold {k} {v:.4g}" for k, v in enumerate(mine.fold_scores()["my model"])))
mine.table()
'''

YOUR_TESTS = '''
mine.comparison()  # is my model better than each? one-sided paired tests over the same folds
'''

CURVE = '''
if (RUN / "learning_curve.png").is_file():
    display(Image(filename=str(RUN / "learning_curve.png")))
rows = [{"model": c["model"], "fraction": s["fraction"], "n_train": s["n_train_mean"],
         "train": s["train"]["mean"], "validation": s["validation"]["mean"],
         "validation std": s["validation"]["std"]}
        for c in run.learning_curve.get("curves", []) for s in c["sizes"]]
pd.DataFrame(rows) if rows else print("Not run: this run has no learning curve (--learning-curve).")
'''

EXPLAIN = '''
EXPLAIN = next((RUN / d for d in ("trust", "explain") if (RUN / d).is_dir()), None)
if EXPLAIN is None:
    print(f"Not run yet: `assay explain {RUN}` writes these plots; then run this cell again.")
else:
    for name in ("shap_summary.png", "importance_groups.png", "calibration.png",
                 "reliability.png", "error_vs_distance.png"):
        if (EXPLAIN / name).is_file():
            print(name)
            display(Image(filename=str(EXPLAIN / name)))
    if (EXPLAIN / "importance.json").is_file():
        imp = json.loads((EXPLAIN / "importance.json").read_text())
        display(pd.DataFrame(imp["permutation"]["features"]).head(10))
'''

LEADERBOARD = '''
from assay.data.leaderboard import rank_against

s = run.summary[PRIMARY][METRIC]
board = rank_against(@TASK@, @ENTRY@, s["mean"], s["std"])
ours = board[board["is_ours"]].iloc[0]
print(f"{PRIMARY}: {METRIC} {s['mean']:.4g} ± {s['std']:.4g} -> rank {int(ours['rank'])} of {len(board)}")
m = mine.summary()[METRIC]
yours = rank_against(@TASK@, "my model", m["mean"], m["std"])
print(f"my model: {METRIC} {m['mean']:.4g} ± {m['std']:.4g} -> rank "
      f"{int(yours[yours['is_ours']].iloc[0]['rank'])} of {len(yours)}")
board[["rank", "algorithm", "mean", "std", "is_ours"]].head(12)
'''

DECLARE = '''
from assay.run.provenance import package_versions

print(f"assay {assay.__version__}; run {run.run_id}; seed {config.seed}")
print(json.dumps(package_versions(), indent=1))
'''


def checklist_table(b: ReportBuilder) -> str:
    lines = ["| item | answer | evidence |", "|---|---|---|"]
    for i in b.facts.checklist:
        ev = re.sub(r"<[^>]+>", "", i.evidence).replace("|", "/").replace("&gt;", ">")
        lines.append(f"| {i.question} | **{i.answer}** | {ev} |")
    return "\n".join(lines)
