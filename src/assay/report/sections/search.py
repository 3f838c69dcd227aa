"""Part of section 4: the hyperparameters, fixed or found by nested search."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .. import figures as F
from ...models.zoo import ZOO, make_model
from ..evidence import metric_label
from ..html import Raw, esc, missing, table

if TYPE_CHECKING:
    from ..builder import ReportBuilder


def search_html(b: ReportBuilder, md: list[str]) -> str:
    r = b.run
    if not r.search:
        rows = []
        for m in r.models:
            spec = ZOO.get(m)
            rows.append([m, _fixed_params(m, r.task_type),
                         ", ".join(spec.search_space) if spec and spec.search_space else "–"])
        md.append("No nested hyperparameter search: fixed, pre-declared hyperparameters.")
        return (missing("nested hyperparameter search",
                        "The models were fitted with fixed hyperparameters chosen before the run "
                        "(below), so no test fold influenced them. To tune them without touching the "
                        "test folds, set <code>search = \"tpe\"</code> (or <code>\"random\"</code>, "
                        "<code>\"grid\"</code>) and <code>search_trials</code> in the config and re-run: "
                        "each outer training fold is then searched by inner cross-validation and the "
                        "trials are kept in <code>search/&lt;model&gt;/fold_&lt;k&gt;.json</code>.")
                + table(rows, ["model", "fixed hyperparameters used", "searchable (not searched)"], left=3))
    parts = []
    for model, recs in r.search.items():
        first = recs[0]
        space = first.get("space") or first.get("search_space") or (ZOO[model].search_space if model in ZOO else {})
        budget = first.get("budget")
        if isinstance(budget, dict):
            budget = " and ".join(x for x in (
                f"{budget['trials']} trials" if budget.get("trials") else "",
                f"{budget['seconds']} s" if budget.get("seconds") else "") if x)
        budget = budget or f"{len(first.get('trials') or [])} trials"
        inner = first.get("inner_folds") or first.get("inner_cv")
        metric = first.get("metric") or first.get("scoring")
        strategy = first.get("strategy", "")
        parts.append(f"<p><b>{esc(model)}</b>: {esc(strategy)} search, budget {esc(budget)} per outer fold"
                     f"{', inner CV with ' + esc(inner) + ' folds' if inner else ''}"
                     f"{', objective ' + esc(metric_label(metric)) if metric else ''}"
                     f"{' (higher is better)' if first.get('higher_is_better') else ''}. The search saw "
                     f"only the training rows of each outer fold ({esc(first.get('n_train', '?'))} rows in "
                     f"fold {esc(first.get('fold'))}); the test fold was predicted once, afterwards.</p>")
        if space:
            parts.append(table([[k, Raw(esc(json.dumps(v)) if not isinstance(v, str) else esc(v))]
                                for k, v in space.items()], ["parameter", "search space"], left=2))
        chosen, keys = [], []
        for rec in recs:
            best = rec.get("best") if isinstance(rec.get("best"), dict) else {}
            bp = best.get("params") or rec.get("best_params") or rec.get("chosen_params") or {}
            bv = best.get("score", rec.get("best_value", rec.get("best_score")))
            chosen.append((rec.get("fold"), bp, bv, len(rec.get("trials") or [])))
            keys += [k for k in bp if k not in keys]
        rows = [[f] + [bp.get(k) for k in keys] + [bv, n] for f, bp, bv, n in chosen]
        parts.append("<p>Chosen values per outer fold:</p>" + table(
            rows, ["fold"] + [k.split("__")[-1] for k in keys] + ["inner-CV score", "trials"]))
        allrow = r.optional_json(f"search/{model}/all_rows.json")
        if isinstance(allrow, dict) and isinstance(allrow.get("best"), dict):
            parts.append("<p class=note>The refit on all rows (model.joblib) used: <code>"
                         + esc(json.dumps(allrow["best"].get("params"), default=str)) + "</code>.</p>")
        parts.append(b.fig(f"search-{model}", F.search_history(recs, model, metric),
                           f"{esc(model)}: inner-CV objective of each trial (dots) and the best so far "
                           f"(line), one colour per outer fold."))
        md.append(f"Nested {strategy} search for {model}: {budget} per outer fold, inner CV {inner} folds.")
    return "".join(parts)


def _fixed_params(model: str, task_type: str) -> str:
    try:
        est = make_model(model, task_type)
    except Exception:  # noqa: BLE001
        return "–"
    est = getattr(est, "steps", [[None, est]])[-1][1]
    keep = ("n_estimators", "learning_rate", "num_leaves", "max_features", "min_samples_leaf",
            "subsample", "colsample_bytree", "min_child_samples", "reg_lambda", "n_neighbors",
            "strategy", "alpha", "C", "max_depth")
    params = est.get_params()
    return ", ".join(f"{k}={params[k]}" for k in keep if k in params and params[k] is not None)
