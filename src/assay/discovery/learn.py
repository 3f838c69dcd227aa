"""Active learning simulated on data one already has: would picking experiments cleverly have
found the interesting materials (or a good model) with fewer measurements than picking at random?

Protocol (per repeat): a fixed random test set (``test_size``) is held out and never picked; a
random initial set is "measured" from the rest (the pool), the same one for every strategy of
that repeat; each round the model is retrained on the measured rows, scored on the test set, and
each strategy picks the next batch from the pool. Features are computed once (and cached), so a
round costs one model fit and, for model-based strategies, one prediction of the pool. Numbers
are reported per round as mean and spread over repeats, and as the experiments each strategy
needs to reach what random reaches with the whole budget.
"""
from __future__ import annotations

import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import balanced_accuracy_score, mean_absolute_error
from sklearn.model_selection import train_test_split

from ..errors import AssayError
from ..evaluation.parallel import run_jobs
from ..features import featurize
from ..models.entries import resolve_models
from ..run.config import RunConfig
from ..run.folder import RunFolder
from ..run.resolve import resolve_run
from ..ui import progress_bar, say
from .acquisition import DEFAULT_STRATEGIES, STRATEGIES, Goal, Surrogate, needs_model, pick, standardise
from .plots import curves, plot_learn


@dataclass
class LearnSettings:
    """What a simulation does; kept whole in learn.json."""

    strategies: tuple = DEFAULT_STRATEGIES
    initial: int = 50
    batch: int = 10
    rounds: int = 20
    repeats: int = 5
    test_size: float = 0.2
    goal: str | None = None  # top1% (regression) / class:1 (classification) when None
    seed: int = 0
    model: str = "et"

    def __post_init__(self):
        self.strategies = tuple(self.strategies)
        bad = [s for s in self.strategies if s not in STRATEGIES]
        if bad or not self.strategies:
            raise AssayError(f"unknown strategies {bad}; known: {', '.join(STRATEGIES)}")
        for key in ("initial", "batch", "repeats"):
            if int(getattr(self, key)) < 1:
                raise AssayError(f"--{key} must be at least 1")
        if self.rounds < 0:
            raise AssayError("--rounds must be 0 or more")
        if not 0 < self.test_size < 1:
            raise AssayError("test_size is a fraction in (0, 1)")


@dataclass
class Simulation:
    """Per (strategy, repeat): one record per round. ``summary`` is what the report shows."""

    settings: LearnSettings
    task_type: str
    metric: str
    goal: dict
    n_rows: int
    n_goal: int
    records: list = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    seconds: float = 0.0
    uncertainty: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["settings"]["strategies"] = list(self.settings.strategies)
        return d


def metric_for(task_type: str) -> str:
    return "balanced_accuracy" if task_type == "classification" else "mae"


def _split(n: int, y, task_type: str, s: LearnSettings, repeat: int):
    """Test rows, initial rows and pool rows of one repeat (the same for every strategy)."""
    rows = np.arange(n)
    strat = y if task_type == "classification" and np.bincount(y.astype(int)).min() >= 2 else None
    pool, test = train_test_split(rows, test_size=s.test_size, random_state=s.seed + repeat,
                                  stratify=strat)
    if s.initial >= len(pool):
        raise AssayError(f"--initial {s.initial} leaves no pool: the data has {len(pool)} rows "
                         "outside the test set")
    rng = np.random.default_rng([s.seed, repeat])
    initial = np.sort(rng.choice(pool, s.initial, replace=False))
    return np.sort(test), initial, np.setdiff1d(pool, initial)


def _one(job: dict) -> dict:
    """One strategy on one repeat: the rounds, each a retrain, a test score and a pick."""
    X, y, Z, s, goal = job["X"], job["y"], job["Z"], job["settings"], job["goal"]
    strategy, repeat, task_type = job["strategy"], job["repeat"], job["task_type"]
    members = job["members"]
    test, labelled, pool = _split(len(y), y, task_type, s, repeat)
    rng = np.random.default_rng([s.seed, repeat, zlib.crc32(strategy.encode())])
    rounds, kind = [], ""
    for rnd in range(s.rounds + 1):
        t0 = time.perf_counter()
        sur = Surrogate(job["entry"], task_type, seed=s.seed + repeat, feature_names=job["labels"],
                        goal_class=int(goal.value) if goal.kind == "class" else 1).fit(X[labelled], y[labelled])
        kind = sur.uncertainty_kind
        if task_type == "classification":
            value = float(balanced_accuracy_score(y[test], sur.predict_label(X[test])))
        else:
            value = float(mean_absolute_error(y[test], sur.model_.predict(X[test])))
        rec = {"strategy": strategy, "repeat": repeat, "round": rnd, "n_labelled": int(len(labelled)),
               "value": value, "found": int(members[labelled].sum())}
        if rnd == s.rounds or len(pool) == 0:
            rec["seconds"] = time.perf_counter() - t0
            rounds.append(rec)
            break
        mu = sigma = None
        if needs_model(strategy):
            mu, sigma = sur.predict(X[pool])
        best = float(goal.sign * np.max(goal.sign * y[labelled])) if task_type != "classification" else 1.0
        new = pick(strategy, s.batch, pool, rng=rng, Z=Z, labelled=labelled, mu=mu, sigma=sigma,
                   goal=goal, best=best, task_type=task_type)
        rec["picked"] = [int(i) for i in new]
        rec["seconds"] = time.perf_counter() - t0
        rounds.append(rec)
        labelled = np.concatenate([labelled, new])
        pool = np.setdiff1d(pool, new)
    n_available = int(members[np.setdiff1d(np.arange(len(y)), test)].sum())
    for r in rounds:
        r["available"] = n_available
    return {"rounds": rounds, "uncertainty": kind}


def simulate(X, y, task_type: str, entry, settings: LearnSettings, *, labels=None,
             class_labels=None, n_jobs: int = 1, progress: bool = False) -> Simulation:
    """Run every strategy on every repeat (``n_jobs`` processes) and summarise."""
    t0 = time.perf_counter()
    X = np.asarray(X, float)
    y = np.asarray(y, int if task_type == "classification" else float)
    goal = Goal.parse(settings.goal, task_type, class_labels)
    members = goal.members(y)
    if not members.any():
        raise AssayError(f"no row meets the goal {goal.text!r}")
    Z = standardise(X)
    jobs = [{"X": X, "y": y, "Z": Z, "settings": settings, "goal": goal, "strategy": st,
             "repeat": r, "task_type": task_type, "members": members, "entry": entry,
             "labels": labels} for r in range(settings.repeats) for st in settings.strategies]
    with progress_bar(progress, "learn: strategies x repeats", total=len(jobs)) as tick:
        out = run_jobs(_one, jobs, n_jobs=n_jobs, on_done=lambda _: tick(), n_total=len(jobs))
    records = sorted((r for o in out for r in o["rounds"]),
                     key=lambda r: (settings.strategies.index(r["strategy"]), r["repeat"], r["round"]))
    sim = Simulation(settings, task_type, metric_for(task_type), asdict(goal), len(y), int(members.sum()),
                     records, uncertainty=next((o["uncertainty"] for o in out if o["uncertainty"]), ""))
    sim.summary = summarise(records, sim.metric, settings)
    sim.seconds = time.perf_counter() - t0
    return sim


def _first_reach(n, mean, target, higher: bool):
    hit = np.flatnonzero(mean >= target - 1e-12) if higher else np.flatnonzero(mean <= target + 1e-12)
    return int(n[hit[0]]) if len(hit) else None


def summarise(records, metric: str, s: LearnSettings) -> dict:
    """Final values per strategy (mean, std over repeats) and the experiments each needs to reach
    random's final error and random's final number found (None: not within the budget)."""
    higher = metric == "balanced_accuracy"
    base = "random" if "random" in s.strategies else s.strategies[0]
    _, b_val, _ = curves(records, base, "value")
    _, b_found, _ = curves(records, base, "found")
    target_value, target_found = float(b_val[-1]), float(b_found[-1])
    out = {"baseline": base, "metric": metric, "higher_is_better": higher,
           "target_value": target_value, "target_found": target_found, "strategies": {}}
    for st in s.strategies:
        n, val, val_sd = curves(records, st, "value")
        _, found, found_sd = curves(records, st, "found")
        _, recall, _ = curves(records, st, "recall")
        finals = {r["repeat"]: r for r in records if r["strategy"] == st and r["n_labelled"] == n[-1]}
        base_finals = {r["repeat"]: r for r in records if r["strategy"] == base and r["n_labelled"] == n[-1]}
        wins = [finals[k]["found"] >= base_finals[k]["found"] for k in finals if k in base_finals]
        need_v = _first_reach(n, val, target_value, higher)
        need_f = _first_reach(n, found, target_found, True) if target_found > 0 else None
        out["strategies"][st] = {
            "final_value": float(val[-1]), "final_value_std": float(val_sd[-1]),
            "final_found": float(found[-1]), "final_found_std": float(found_sd[-1]),
            "final_recall": float(recall[-1]), "n_labelled_final": int(n[-1]),
            "experiments_to_baseline_value": need_v, "experiments_to_baseline_found": need_f,
            "found_at_least_baseline_in_repeats": f"{sum(wins)}/{len(wins)}",
            "mean_found_over_rounds": float(np.mean(found)),
        }
    return out


def summary_lines(sim: Simulation) -> list[str]:
    """Plain sentences for the console and the report."""
    s, m = sim.summary, sim.metric
    lines = [f"goal {sim.goal['text']}: {sim.n_goal} of {sim.n_rows} rows; model error as {m} on a "
             f"held-out {sim.settings.test_size:.0%} test set; {sim.settings.repeats} repeats; "
             f"uncertainty: {sim.uncertainty}"]
    for st, d in s["strategies"].items():
        nv, nf = d["experiments_to_baseline_value"], d["experiments_to_baseline_found"]
        lines.append(
            f"{st:>22}: {m} {d['final_value']:.4g} ± {d['final_value_std']:.2g}, found "
            f"{d['final_found']:.1f} ± {d['final_found_std']:.1f} (recall {d['final_recall']:.0%}) after "
            f"{d['n_labelled_final']} experiments; reaches {s['baseline']}'s final {m} after "
            f"{nv if nv is not None else '>' + str(d['n_labelled_final'])} and its final count after "
            f"{nf if nf is not None else '>' + str(d['n_labelled_final'])}")
    return lines


def learn_inputs(what: str, *, data=None, target=None, task_type=None, features="auto",
                 model: str = "et", out_dir: str = "runs", progress: bool = True):
    """(dataset, features spec, model entry, RunFolder) for a Matbench task, a data file or a
    finished run folder. A run folder's simulation goes to RUN/learn/; otherwise to the folder
    an ``assay run`` of the same data, features and model would use (``runs/<name>-<digest>``)."""
    path = Path(what).expanduser()
    if path.is_dir():
        folder = RunFolder(path)
        cfg = folder.read_config()
        objects = folder.load_pickle("plugins.pkl") if folder.has("plugins.pkl") else None
        r = resolve_run(cfg, progress=progress, objects=objects)
        entry = r.models[r.primary] if model == "primary" else resolve_models([model])[model]
        return r.dataset, r.features, entry, folder
    if model == "primary":
        raise AssayError("--model primary needs a finished run folder; name a model (e.g. et)")
    kw = {"data": str(path)} if path.is_file() else {"task": what, "data": data}
    cfg = RunConfig(target=target, task_type=task_type, features=features, models=[model],
                    out_dir=out_dir, controls=[], learning_curve=False, **kw)
    r = resolve_run(cfg, progress=progress)
    return r.dataset, r.features, r.models[r.primary], r.folder


def run_learn(what: str, settings: LearnSettings | None = None, *, data=None, target=None,
              task_type=None, features="auto", out_dir: str = "runs", n_jobs: int = 1,
              progress: bool = True) -> tuple[RunFolder, Simulation]:
    """Featurise once (cached), simulate, write RUN/learn/learn.json and curves.png."""
    s = settings or LearnSettings()
    t0 = time.perf_counter()
    ds, fspec, entry, folder = learn_inputs(what, data=data, target=target, task_type=task_type,
                                            features=features, model=s.model, out_dir=out_dir,
                                            progress=progress)
    fs = featurize(ds.inputs, fspec, input_type=ds.input_type, n_jobs=n_jobs, progress=progress)
    keep = np.setdiff1d(np.arange(len(ds)), fs.failed["row"].astype(int).to_numpy())
    if len(keep) < len(ds):
        say(f"[yellow]learn: {len(ds) - len(keep)} rows could not be featurised and are left out[/]")
    t_feat = time.perf_counter() - t0
    sim = simulate(fs.X.to_numpy(float)[keep], ds.y()[keep], ds.task_type, entry, s,
                   labels=list(fs.labels), class_labels=ds.class_labels, n_jobs=n_jobs,
                   progress=progress)
    ids = np.asarray(ds.ids)[keep]
    for r in sim.records:
        if "picked" in r:
            r["picked"] = [str(ids[i]) for i in r["picked"]]
    out = sim.to_dict()
    out.update({"dataset": ds.name, "target": ds.target_name, "unit": ds.unit,
                "n_rows_left_out": int(len(ds) - len(keep)), "features": fs.preset,
                "n_features": int(fs.X.shape[1]), "model": entry.record(),
                "seconds_featurise": t_feat, "seconds_total": time.perf_counter() - t0,
                "n_jobs": n_jobs, "lines": summary_lines(sim)})
    folder.write_json("learn/learn.json", out)
    plot_learn(sim, folder.file("learn/curves.png"))
    return folder, sim
