"""Which material to measure next: goals, a surrogate with an uncertainty, and the strategies.

Why here and not in the model zoo: an acquisition needs a prediction *and* how unsure it is. For
bagging forests (et, rf) the spread of the per-tree predictions is that uncertainty for free;
for any other model a small bootstrap ensemble of it stands in (slower, said in the records).
A goal says what "interesting" means: the top or bottom percent of the target, values beyond a
threshold, or one class; the same object drives ``assay learn`` (which rows count as found) and
``assay screen`` (which direction to rank).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.metrics import pairwise_distances
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ..errors import AssayError
from ..explanation.conformal import is_forest

#: Strategies ``assay learn`` knows; the first four are the defaults.
STRATEGIES = {
    "random": "a random batch from the pool (the baseline every strategy is compared with)",
    "uncertainty": "the pool rows the model is least sure about (per-tree spread; class margin)",
    "expected-improvement": "expected improvement over the best measured value (probability of "
                            "the goal class for classification)",
    "diversity": "farthest-point sampling in standardised feature space (no model needed)",
    "greedy": "the best predicted rows (pure exploitation)",
    "ucb": "upper confidence bound: prediction + 2 x spread in the goal's direction",
}
DEFAULT_STRATEGIES = ("random", "uncertainty", "expected-improvement", "diversity")
_MODEL_FREE = {"random", "diversity"}


class GoalError(AssayError, ValueError):
    """A goal that cannot be read (the message lists the accepted forms)."""


@dataclass(frozen=True)
class Goal:
    """``direction``: 'max' | 'min' | 'class'. ``kind``: 'percent' | 'threshold' | 'class' |
    'direction' (screen's bare max/min: no membership rule)."""

    text: str
    direction: str
    kind: str
    value: float = 0.0  # the percent, the threshold, or the class code

    @classmethod
    def parse(cls, text: str | None, task_type: str, class_labels: dict | None = None) -> "Goal":
        """``top1%``, ``bottom5%``, ``above:3.5``, ``below:0.1``, ``max``, ``min`` (regression);
        ``class``, ``class:1`` or ``class:<label>`` (classification; default the positive class)."""
        clf = task_type == "classification"
        if text is None:
            text = "class:1" if clf else "top1%"
        t = text.strip().lower()
        if clf:
            if t in ("class", "max"):
                return cls(text, "class", "class", 1.0)
            if t.startswith("class:"):
                want = text.strip()[6:]
                names = {str(v).lower(): int(k) for k, v in (class_labels or {}).items()}
                if want.lower() in names:
                    return cls(text, "class", "class", float(names[want.lower()]))
                if want in ("0", "1"):
                    return cls(text, "class", "class", float(want))
            raise GoalError(f"goal {text!r} for a classification task: use class, class:1 or "
                            f"class:<label>{' (' + ', '.join(map(str, class_labels.values())) + ')' if class_labels else ''}")
        if t in ("max", "min"):
            return cls(text, t, "direction")
        m = re.fullmatch(r"(top|bottom)\s*([0-9.]+)\s*%", t)
        if m and 0 < float(m.group(2)) < 100:
            return cls(text, "max" if m.group(1) == "top" else "min", "percent", float(m.group(2)))
        m = re.fullmatch(r"(above|below)\s*:\s*(-?[0-9.eE+-]+)", t)
        if m:
            try:
                return cls(text, "max" if m.group(1) == "above" else "min", "threshold",
                           float(m.group(2)))
            except ValueError:
                pass
        raise GoalError(f"goal {text!r} for a regression task: use top<p>% (e.g. top1%), "
                        "bottom<p>%, above:<value>, below:<value>, max or min")

    @property
    def sign(self) -> float:
        """+1 when larger is better (max, or the probability of the goal class), -1 for min."""
        return -1.0 if self.direction == "min" else 1.0

    def members(self, y) -> np.ndarray:
        """Which rows of ``y`` (the whole data set) meet the goal."""
        y = np.asarray(y, float)
        if self.kind == "class":
            return y == self.value
        if self.kind == "threshold":
            return y > self.value if self.direction == "max" else y < self.value
        if self.kind == "percent":
            q = np.quantile(y, 1 - self.value / 100 if self.direction == "max" else self.value / 100)
            return y >= q if self.direction == "max" else y <= q
        raise GoalError(f"goal {self.text!r} names a direction, not which materials count as found")


class Surrogate:
    """A model and its uncertainty. ``predict`` gives (mu, sigma): the prediction (regression)
    or the probability of the goal class, and the spread over trees or bootstrap members."""

    def __init__(self, entry, task_type: str, seed: int = 0, feature_names=None,
                 goal_class: int = 1, n_members: int = 5):
        self.entry, self.task_type, self.seed = entry, task_type, seed
        self.feature_names, self.goal_class, self.n_members = feature_names, goal_class, n_members

    def fit(self, X, y):
        y = np.asarray(y)
        self.constant_ = None
        if self.task_type == "classification" and len(np.unique(y)) < 2:
            self.constant_ = float(y[0] == self.goal_class)  # one class seen so far
            return self
        self.model_ = self.entry.build(self.task_type, self.seed, feature_names=self.feature_names).fit(X, y)
        self.members_ = []
        if not is_forest(self.model_):
            rng = np.random.default_rng(self.seed)
            for _ in range(self.n_members):
                rows = rng.integers(0, len(y), len(y))
                if self.task_type == "classification" and len(np.unique(y[rows])) < 2:
                    continue
                self.members_.append(clone(self.model_).fit(X[rows], y[rows]))
        return self

    @property
    def uncertainty_kind(self) -> str:
        if getattr(self, "constant_", None) is not None:
            return "none (one class seen)"
        return "per-tree spread" if not self.members_ else f"bootstrap ensemble of {len(self.members_)}"

    def _col(self, model) -> int:
        classes = list(getattr(model, "classes_", [0, 1]))
        return classes.index(self.goal_class) if self.goal_class in classes else -1

    def predict(self, X) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X, float)
        if self.constant_ is not None:
            return np.full(len(X), self.constant_), np.full(len(X), 0.5)
        clf = self.task_type == "classification"
        if not self.members_ and not clf:  # one pass over the trees gives both (predict = tree mean)
            P = tree_predictions(self.model_, X)
            return P.mean(axis=0), P.std(axis=0)
        mu = self.model_.predict_proba(X)[:, self._col(self.model_)] if clf else self.model_.predict(X)
        if not self.members_:
            sigma = _tree_proba_std(self.model_, X, self._col(self.model_))
        else:
            P = np.stack([m.predict_proba(X)[:, self._col(m)] if clf else m.predict(X)
                          for m in self.members_])
            sigma = P.std(axis=0)
        return np.asarray(mu, float), np.asarray(sigma, float)

    def predict_label(self, X) -> np.ndarray:
        if self.constant_ is not None:
            return np.full(len(X), self.goal_class if self.constant_ else 1 - self.goal_class)
        return self.model_.predict(np.asarray(X, float))


def _split_pipeline(model):
    pre, last = (model[:-1], model.steps[-1][1]) if isinstance(model, Pipeline) else (None, model)
    return last, (lambda X: pre.transform(X)) if pre is not None else (lambda X: X)


def tree_predictions(model, X) -> np.ndarray:
    """(n_trees, n_rows) predictions of a (pipelined) bagging forest regressor."""
    last, prep = _split_pipeline(model)
    Z = prep(X)
    return np.stack([t.predict(Z) for t in last.estimators_])


def _tree_proba_std(model, X, col: int) -> np.ndarray:
    last, prep = _split_pipeline(model)
    Z = prep(X)
    return np.stack([t.predict_proba(Z)[:, col] for t in last.estimators_]).std(axis=0)


def expected_improvement(mu, sigma, best: float, sign: float = 1.0, xi: float = 0.0) -> np.ndarray:
    """EI of a Gaussian N(mu, sigma) over ``best`` in the goal's direction (sign -1: minimise)."""
    mu, sigma = sign * np.asarray(mu, float), np.maximum(np.asarray(sigma, float), 1e-12)
    d = mu - sign * best - xi
    z = d / sigma
    return d * norm.cdf(z) + sigma * norm.pdf(z)


def acquisition_scores(strategy: str, mu, sigma, goal: Goal, best: float | None,
                       task_type: str) -> np.ndarray:
    """Higher is picked first. Classification: 'uncertainty' is the margin 1 - |2p - 1|;
    'expected-improvement', 'greedy' and 'ucb' rank by the goal-class probability (+ spread)."""
    mu, sigma = np.asarray(mu, float), np.asarray(sigma, float)
    if strategy == "uncertainty":
        return 1 - np.abs(2 * mu - 1) if task_type == "classification" else sigma
    if strategy == "greedy" or strategy == "prediction":
        return goal.sign * mu
    if strategy == "ucb":
        return goal.sign * mu + 2.0 * sigma
    if strategy in ("expected-improvement", "ei"):
        if task_type == "classification":
            return mu
        return expected_improvement(mu, sigma, best if best is not None else np.nan, goal.sign)
    raise KeyError(f"unknown acquisition {strategy!r}; known: {', '.join(STRATEGIES)}, prediction, ei")


def standardise(X) -> np.ndarray:
    """Median-imputed, standardised features (constant columns become 0): diversity's space."""
    X = np.asarray(X, float)
    Z = StandardScaler().fit_transform(SimpleImputer(strategy="median", keep_empty_features=True).fit_transform(X))
    return np.nan_to_num(Z)


def farthest_points(Z, labelled, pool, k: int) -> np.ndarray:
    """Greedy farthest-point batch: each pick maximises its distance to everything labelled or
    picked already (Gonzalez 1985), so the batch spreads over the unexplored space."""
    pool = np.asarray(pool)
    d = pairwise_distances(Z[pool], Z[np.asarray(labelled)]).min(axis=1) ** 2 if len(labelled) \
        else np.full(len(pool), np.inf)
    picked = []
    for _ in range(min(k, len(pool))):
        i = int(np.argmax(d))
        picked.append(pool[i])
        d = np.minimum(d, ((Z[pool] - Z[pool[i]]) ** 2).sum(-1))
        d[i] = -np.inf
    return np.asarray(picked, int)


def pick(strategy: str, k: int, pool, *, rng, Z=None, labelled=None, mu=None, sigma=None,
         goal: Goal | None = None, best: float | None = None, task_type: str = "regression") -> np.ndarray:
    """The next ``k`` rows of ``pool`` (positions into the full data) for one strategy."""
    pool = np.asarray(pool)
    k = min(k, len(pool))
    if strategy == "random":
        return rng.choice(pool, k, replace=False)
    if strategy == "diversity":
        return farthest_points(Z, labelled, pool, k)
    s = acquisition_scores(strategy, mu, sigma, goal, best, task_type)
    s = np.where(np.isfinite(s), s, -np.inf)
    order = np.lexsort((rng.random(len(pool)), -s))  # ties broken at random, not by row order
    return pool[order[:k]]


def needs_model(strategy: str) -> bool:
    return strategy not in _MODEL_FREE
