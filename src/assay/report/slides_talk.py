"""The slide record, and the three slides that read the most evidence: the controls (what the
score is made of), the explanation (SHAP, or importance, in the features' own words, with the
direction of each effect) and the outliers."""
from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass, field

import numpy as np

from ..explanation.groups import feature_group
from .builder import Figure, ReportBuilder
from .sections.outliers import pretty_formula
from .slides_evidence import builtin_importance, feature_directions
from .slides_words import describe_feature, metric_name, num, pct, pm, pval, tidy_numbers

#: What a group of features measures physically, for the speaker's story.
GROUP_MEANING = {
    "atomic size": "how well atoms of different sizes pack; a size mismatch frustrates simple crystals",
    "electronegativity": "how strongly the elements pull electrons, i.e. how strongly unlike atoms bond",
    "valence electrons": "the electron count, which sets bonding and band filling",
    "melting / thermal": "how strongly the pure elements bind",
    "periodic-table position": "the chemical family of the elements",
    "atomic mass / number": "whether the elements are heavy or light",
    "elemental crystal structure": "which crystal structures the pure elements prefer",
    "elemental band gap / magnetism": "whether the pure elements are metals, semiconductors or magnets",
    "stoichiometry": "how many elements there are and how evenly they are mixed",
    "element fractions": "how much of each element there is",
    "ionic character": "how ionic, rather than metallic or covalent, the bonding is",
    "density / packing": "how densely the atoms pack",
}


@dataclass
class Slide:
    id: str
    title: str
    bullets: list[str]  # plain text, shown
    notes: str  # what the speaker says
    figure: Figure | None = None
    subtitle: list[str] = field(default_factory=list)  # the title slide's lines

    @property
    def caption(self) -> str:
        """The figure's caption as plain text (the report's captions may hold markup)."""
        if self.figure is None:
            return ""
        return tidy_numbers(_html.unescape(re.sub(r"<[^>]+>", "", self.figure.caption or "")))


class Talk:
    """What the slide builders share: the report's builder, the figures already shown (each
    figure appears once in the talk) and the primary model's score."""

    def __init__(self, b: ReportBuilder):
        self.b, self.r = b, b.run
        self.used: set[str] = set()
        self.prim, self.metric = self.r.primary_model, self.r.primary_metric
        self.pmu, self.psd = b.mean(self.prim)

    def fig(self, *ids) -> Figure | None:
        for i in ids:
            if i in self.b.figures and i not in self.used:
                self.used.add(i)
                return self.b.figures[i]
        return None

    def score(self, metric: str, mean, std) -> str:
        """``name: mean ± std unit`` for one metric."""
        if metric == "mape":  # a fraction on disk, a percentage to people
            return f"{metric_name(metric)}: {pct(mean, 1)} ± {pct(std, 1)}"
        unit = self.r.unit
        unit = f" {unit}" if unit and metric in ("mae", "rmse", "max_error") else ""
        return f"{metric_name(metric)}: {pm(mean, std)}{unit}"

    @property
    def mname(self) -> str:
        return metric_name(self.metric)

    def reference(self) -> tuple[str, float] | None:
        """What "no skill" scores: chance (0.5) for balanced accuracy, else the dummy baseline."""
        if self.metric in ("rocauc", "balanced_accuracy", "roc_auc_true"):
            return "chance (0.5)", 0.5
        mu = self.b.mean("dummy")[0] if "dummy" in self.r.models else float("nan")
        return ("predicting the mean", mu) if np.isfinite(mu) else None


# --- controls ------------------------------------------------------------------------------------
def controls_slide(t: Talk) -> Slide:
    r, b = t.r, t.b
    tests = {p["b"]: p for p in b.paired if p.get("kind") == "control"}
    ref = t.reference()
    err = not r.higher_is_better
    bl = []
    for name, (mu, sd) in b.controls.items():
        model_of = name.split(" [")[0]
        pmu = b.mean(model_of)[0] if model_of in r.summary else t.pmu
        ratio = mu / pmu if pmu else float("nan")
        test = tests.get(name, {})
        beats = test.get("beats")
        if beats is None:
            beats = b.better(pmu, mu)
        evid = (f" ({pval(test['p_ttest'])}, better on {test['wins']} of {test['n_folds']} folds)"
                if test.get("p_ttest") is not None else "")
        share = ""
        if ref is not None and np.isfinite(ref[1]) and pmu != ref[1]:
            share = f", {pct((mu - ref[1]) / (pmu - ref[1]))} of the model's gain over {ref[0]}"
        what = (f"{pct(ratio)} of the model's {num(pmu)}{' (an error: lower is better)' if err else ''}"
                f"{share}")
        if "random" in name:
            close = ratio < 1.1 if err else ratio > 0.9
            meaning = ("so element identity and interpolation, not physics, carry the score" if not beats else
                       f"so most of the score is element identity and interpolation; the physical "
                       f"element properties add the rest{evid}" if close else
                       f"so the physical element properties carry information beyond element identity{evid}")
            bl.append(f"Random per-element vectors (each element a fixed random vector, {model_of}): "
                      f"{num(mu)} = {what}: {meaning}.")
        else:
            meaning = (f"the model learns a real relation, not noise{evid}" if beats else
                       "the model does no better than on shuffled targets: do not trust the score")
            gain = share.lstrip(", ") or f"against the model's {num(pmu)}"
            bl.append(f"Scrambled target (training targets shuffled, {model_of}): {pm(mu, sd)}, "
                      f"{gain}: {meaning}.")
    if not b.controls:
        bl.append("Controls not run: add controls = ['random-features', 'scrambled-target'] to the "
                  "config to show what the score is made of.")
    bl.append(f"All scores here are {t.mname}, fold mean over the same test folds.")
    return Slide("controls", "Controls: what the score is made of", bl, (
        "A control is the same model with one essential thing destroyed. Random per-element "
        "vectors keep which elements are present but drop every physical property: what they still "
        "reach is element identity and interpolation between similar compositions. A scrambled "
        "target keeps the features but breaks the relation: it should fall to no skill."), None)


# --- explanation ---------------------------------------------------------------------------------
def _group(label: str) -> str:
    """The feature's physical group; an element symbol is an element fraction ("C" is carbon,
    not the lattice parameter c that the grouping rules would otherwise read)."""
    return "element fractions" if describe_feature(label).startswith("fraction of ") else feature_group(label)


def _direction(t: Talk, rho: float | None) -> str:
    if rho is None:
        return ""
    if rho == 0:
        return "; no single direction"
    up = rho > 0
    if t.r.is_classification:
        return f"; higher values make {t.r.target} = 1 {'more' if up else 'less'} likely (ρ = {rho:+.2f})"
    return f"; higher values {'raise' if up else 'lower'} the predicted {t.r.target} (ρ = {rho:+.2f})"


def explanation_slide(t: Talk) -> Slide:
    r = t.r
    imp = r.trust["json"].get("importance.json")
    shap = ((imp or {}).get("shap") or {}).get("mean_abs") or [] if isinstance(imp, dict) else []
    if shap:
        vals = [(x["feature"], float(x.get("mean_abs_shap") or 0)) for x in shap]
        method = (f"SHAP ({imp['shap'].get('method', '')}) on {num(imp['shap'].get('n_rows'))} held-out "
                  f"rows of the test folds; share of the total mean |SHAP|.")
    else:
        vals = builtin_importance(r, top=12)
        method = (f"Not SHAP: the refit {t.prim}'s own split importance (run assay explain RUN for "
                  f"SHAP on held-out rows); share of the total.")
    if not vals:
        return Slide("explanation", "What the model uses", [
            f"Not computed: run assay explain {r.path}, then assay slides again, to add SHAP, "
            "permutation importance, intervals and the applicability domain."],
            "Say that the explanation step was not run, and what it would add.", None)
    total = sum(v for _, v in vals) or 1.0
    top = vals[:4]
    dirs = feature_directions(r, [f for f, _ in top])
    bl = [f"{describe_feature(f)}: {pct(v / total)}{_direction(t, dirs.get(f))}" for f, v in top]
    groups = {}
    for f, v in vals:
        groups[_group(f)] = groups.get(_group(f), 0.0) + v
    gtop = sorted(groups.items(), key=lambda kv: -kv[1])[:3]
    bl.append("By physical group: " + ", ".join(f"{g} {pct(v / total)}" for g, v in gtop) + ".")
    bl.append(method + (" Direction: rank correlation ρ of the feature with the held-out prediction."
                        if dirs else ""))
    story = " ".join(f"{describe_feature(f)} ({f}) belongs to {_group(f)}: "
                     f"{GROUP_MEANING.get(_group(f), 'see the feature documentation')}."
                     + (" A large mismatch means the elements differ strongly in it." if
                        re.search(r" (avg_dev|range|std_dev) ", f) else "")
                     for f, _ in top[:2])
    notes = (f"Tell the physical story of the two leading features in their own words. {story} "
             "Then say which way they push the prediction, and whether that matches what a "
             "materials scientist expects.")
    return Slide("explanation", "What the model uses", bl, notes,
                 t.fig("trust-shap_summary", "trust-importance_groups"))


# --- outliers ------------------------------------------------------------------------------------
def _short(formula: str, n: int = 5) -> str:
    """The first ``n`` elements of a long formula (a steel has a dozen), so a bullet fits a line."""
    parts = formula.split()
    return formula if len(parts) <= n else " ".join(parts[:n]) + " …"


def outliers_slide(t: Talk) -> Slide:
    r = t.r
    p = r.preds().copy()
    comp = r.inputs or {}
    p["composition"] = [_short(pretty_formula(comp.get(str(i), i))) for i in p["id"]]
    bl = []
    if r.is_classification:
        wrong = p[p["y_true"].astype(int) != p["y_pred"].astype(int)].copy()
        if p["y_proba"].notna().any():
            wrong["conf"] = np.where(wrong["y_true"].astype(int) == 1, 1 - wrong["y_proba"], wrong["y_proba"])
            wrong = wrong.sort_values("conf", ascending=False)
        for _, w in wrong.head(4).iterrows():
            prob = f", P({r.target} = 1) {num(w['y_proba'], 2)}" if np.isfinite(w["y_proba"]) else ""
            bl.append(f"{w['composition']}: measured {r.target} = {int(w['y_true'])}, predicted "
                      f"{int(w['y_pred'])}{prob} (test fold {int(w['fold'])}).")
        bl.append(f"{num(len(wrong))} of {num(len(p))} test predictions are wrong; these are the most "
                  f"confident mistakes.")
        fig = t.fig("confusion", "trust-error_vs_distance")
    else:
        p["err"] = p["y_pred"] - p["y_true"]
        p["abs"] = p["err"].abs()
        unit = f" {r.unit}" if r.unit else ""
        top = p.sort_values("abs", ascending=False)
        for _, w in top.head(4).iterrows():
            bl.append(f"{w['composition']}: measured {num(w['y_true'])}{unit}, predicted "
                      f"{num(w['y_pred'])} (error {num(w['err'])}, test fold {int(w['fold'])}).")
        share = top["abs"].head(15).sum() / max(p["abs"].sum(), 1e-12)
        bl.append(f"The 15 largest errors ({pct(15 / len(p), 1)} of rows) carry {pct(share)} of the "
                  f"total absolute error.")
        fig = t.fig("residuals", "trust-error_vs_distance")
    bl.append("Check them for unit or transcription errors before blaming the model; "
              "assay counterfactual shows which small edits change their prediction.")
    return Slide("outliers", "Outliers worth a look", bl,
                 "Pick one outlier and say what is unusual about its chemistry, and whether the "
                 "data point or the model is more likely wrong.", fig)
