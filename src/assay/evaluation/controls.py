"""Controls beside a model, and the paired comparison that says whether a model beats them.

Controls (each is the same model, same folds, same seed, default hyperparameters):

random-features   the model on features that carry no chemistry but the same width. For
                  composition inputs these are seeded random per-element vectors pooled by
                  composition like Magpie (assay.features' RandomElementProperty, the
                  ``random-control`` preset when the width is Magpie's 132): they still let a model
                  recognise element identity, which is the honest materials control (Chuang &
                  Keiser 2018); structures use their compositions. Only when that featuriser
                  is unavailable are i.i.d. Gaussian columns of the same width used, and
                  ``kind`` says so.
scrambled-target  the model on the real features with the training targets randomly permuted
                  (test targets untouched): what a model scores by fitting noise.

``compare`` pairs fold scores (folds are identical across models and controls) and runs
:func:`assay.evaluation.stats.paired_test` (one-sided paired t-test and, with at least 5 folds, a
one-sided Wilcoxon signed-rank test) on each pair.
"""
from __future__ import annotations

import math

import numpy as np

from ..features import composition as C
from ..features import featurize
from .stats import ALPHA, paired_test  # noqa: F401 - paired_test is re-exported here

CONTROLS = ("random-features", "scrambled-target")


def random_features(dataset, width: int, seed: int = 0) -> tuple[np.ndarray, str]:
    """(matrix, kind) of random control features with ``width`` columns."""
    try:  # structures too: their compositions pool the same random element vectors
        X = _random_element_features(dataset, width, seed)
        return X, ("random per-element vectors pooled by composition "
                   f"(RandomElementProperty, seed {seed}, width {width})")
    except Exception:  # noqa: BLE001 - fall back to Gaussian columns, and say so
        pass
    rng = np.random.default_rng([seed, 4242])
    return rng.standard_normal((len(dataset), width)), f"i.i.d. Gaussian columns (width {width})"


def _random_element_features(dataset, width: int, seed: int) -> np.ndarray:
    if width == 132 and seed == 0:
        fs = featurize(dataset.inputs, "random-control", input_type=dataset.input_type,
                       progress=False)
        X = fs.X.to_numpy(float)
        if X.shape[1] == width:
            return X
    stats = C.ElementProperty.STATS6
    n_props = max(1, math.ceil(width / len(stats)))
    fz = C.RandomElementProperty(n_properties=n_props, seed=seed)
    comps = dataset.compositions()
    X, _err = fz.featurize_matrix(C.CompositionMatrix.from_compositions(comps))
    X = np.asarray(X, float)[:, :width]
    if X.shape != (len(dataset), width):
        raise ValueError("random element features have the wrong shape")
    return X


def scramble(y_train, seed: int, fold: int) -> np.ndarray:
    return np.asarray(y_train)[np.random.default_rng([seed, fold, 1]).permutation(len(y_train))]


# --- paired comparison -------------------------------------------------------------------------------
def compare(fold_scores: dict[str, list[float]], controls: dict[str, dict[str, list[float]]],
            baselines: list[str], metric: str, higher_is_better: bool) -> dict:
    """``fold_scores``: model -> metric per fold; ``controls``: model -> control -> per fold.

    Returns ``{metric, higher_is_better, alpha, rows: [{model, versus, kind, mean_model,
    mean_versus, n_folds, mean_gain, folds_better, p_ttest, p_wilcoxon, beats, verdict}]}``.
    """
    rows = []
    for model, scores in fold_scores.items():
        if model == "dummy":  # a constant predictor is the floor, not a contender
            continue
        others = [(b, "baseline", fold_scores[b]) for b in baselines if b != model and b in fold_scores]
        others += [(f"{model} [{c}]", "control", s) for c, s in controls.get(model, {}).items()]
        for versus, kind, s in others:
            if len(s) != len(scores):
                continue
            rows.append({"model": model, "versus": versus, "kind": kind,
                         "mean_model": float(np.nanmean(scores)), "mean_versus": float(np.nanmean(s)),
                         **paired_test(scores, s, higher_is_better)})
    return {"metric": metric, "higher_is_better": higher_is_better, "alpha": ALPHA,
            "test": "one-sided paired t-test over folds (Wilcoxon signed-rank beside it when n >= 5); "
                    "'beats' = mean better and t-test p < alpha",
            "rows": rows}
