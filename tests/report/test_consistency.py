"""Every number that the report shares with the slides (HTML and PowerPoint), the notebook, the
figure legends and ``submission/info.json`` is the same number everywhere, for a classification
and a regression run.

Each document is reduced to plain text once (``documents``); each check pulls one kind of shared
number out of every document that states it and asserts that they agree to the precision shown.
A new document (e.g. the executed notebook) is one more entry in ``documents``.
"""
from __future__ import annotations

import html
import json
import re

import numpy as np
import pandas as pd
import pytest

from assay.report.builder import build_report
from assay.report.notebook import build_notebook
from assay.report.slides import build_talk, render_html
from assay.report.submission import info_dict
from story_runs import threshold_run


def _plain(doc: str) -> str:
    doc = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", doc, flags=re.S)
    doc = re.sub(r"<img[^>]*>", " ", doc)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", doc)))


def documents(run, tmp_path) -> tuple[object, dict[str, str]]:
    """(builder, {document name: plain text}) for one run."""
    from pptx import Presentation

    from assay.report.slides_pptx import write_pptx

    b, sections, doc = build_report(run)
    slides = build_talk(b)
    docs = {"report": _plain(doc), "slides.html": _plain(render_html(slides, b.run.run_id, slides[0].title))}
    pptx = write_pptx(slides, tmp_path / "slides.pptx")
    docs["slides.pptx"] = " ".join(
        sh.text_frame.text for s in Presentation(str(pptx)).slides for sh in s.shapes if sh.has_text_frame)
    nb = build_notebook(b, sections)
    docs["notebook"] = " ".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                                for c in nb["cells"] if c["cell_type"] == "markdown")
    docs["info.json"] = json.dumps(info_dict(b.run), ensure_ascii=False)
    docs["figure captions"] = " ".join(f.caption for f in b.figures.values())
    return b, docs


def _agree(found: dict[str, list[str]], what: str) -> None:
    """Every number found (as printed) equals every other to the coarser of their precisions."""
    vals = [(name, s) for name, xs in found.items() for s in xs]
    assert vals, f"{what}: stated nowhere"
    for (n1, a), (n2, b_) in zip(vals, vals[1:]):
        dec = min(len(a.split(".")[1]) if "." in a else 0, len(b_.split(".")[1]) if "." in b_ else 0)
        assert abs(float(a) - float(b_)) <= 0.5 * 10 ** -dec + 1e-12, f"{what}: {n1} says {a}, {n2} says {b_}"


def _find(docs: dict[str, str], pattern: str) -> dict[str, list[str]]:
    return {k: re.findall(pattern, v) for k, v in docs.items() if re.findall(pattern, v)}


def _pairs(text: str) -> set[tuple[str, str]]:
    return set(re.findall(r"(-?\d+(?:\.\d+)?) ± (\d+(?:\.\d+)?)", text))


def _same_shown(shown: str, exact: str) -> bool:
    """``shown`` is ``exact`` rounded to ``shown``'s decimals (slides print 3 significant figures)."""
    dec = len(shown.split(".")[1]) if "." in shown else 0
    exact_dec = len(exact.split(".")[1]) if "." in exact else 0
    return abs(float(shown) - float(exact)) <= 0.5 * 10 ** -dec + 1e-12 and exact_dec >= dec


def _check_pairs_in_report(docs):
    """Every 'mean ± std' of the slides and the notebook is one the report states (to the
    precision shown)."""
    rep = _pairs(docs["report"])
    for name in ("slides.html", "slides.pptx", "notebook"):
        extra = {(m, s) for m, s in _pairs(docs[name])
                 if not any(_same_shown(m, rm) and _same_shown(s, rs) for rm, rs in rep)}
        assert not extra, f"{name} states mean ± std pairs the report does not: {sorted(extra)[:5]}"


def _check_controls(b, docs):
    for name, cr in b.facts.control_readings.items():
        pct = f"{cr['ratio']:.0%}"
        for d in ("report", "slides.html"):
            assert f"{pct} of" in docs[d], f"{d} does not give {name} as {pct} of the model"


def _check_chemsys(docs):
    found = _find(docs, r"(\d+\.\d)% of (?:the )?test rows (?:have|share) their chemical system")
    if found:
        _agree(found, "share of test rows whose chemical system is in training")


@pytest.fixture(scope="module")
def cls_docs(shared_base, tmp_path_factory):
    return documents(threshold_run(shared_base), tmp_path_factory.mktemp("cls-docs"))


@pytest.fixture(scope="module")
def reg_docs(small_run, tmp_path_factory):
    return documents(small_run, tmp_path_factory.mktemp("reg-docs"))


def test_classification_numbers_agree(cls_docs):
    b, docs = cls_docs
    _check_pairs_in_report(docs)
    _check_controls(b, docs)
    _check_chemsys(docs)
    t = b.facts.thresholds[b.run.primary_model]
    # balanced accuracy at the chosen thresholds and at 0.5, wherever it is stated
    tuned = _find(docs, r"balanced accuracy (\d\.\d+) (?:vs|against) \d\.\d+ at 0\.5")
    half = _find(docs, r"balanced accuracy \d\.\d+ (?:vs|against) (\d\.\d+) at 0\.5")
    assert {"report", "info.json"} <= set(tuned)
    _agree({**tuned, "facts": [f"{t['tuned'][0]:.6f}"]}, "balanced accuracy at the chosen thresholds")
    _agree({**half, "facts": [f"{t['half'][0]:.6f}"]}, "balanced accuracy at 0.5")
    # the per-fold thresholds of info.json are the report's
    rec = json.loads(docs["info.json"])["recipe"]["threshold"]["per_fold"]
    assert [round(v, 3) for v in rec.values()] == [round(v, 3) for v in t["thresholds"]]
    for v in t["thresholds"]:
        assert f"{v:.3f}" in docs["report"]


def test_regression_numbers_agree(reg_docs):
    b, docs = reg_docs
    _check_pairs_in_report(docs)
    _check_controls(b, docs)
    _check_chemsys(docs)
    mu, sd = b.mean(b.run.primary_model)
    from assay.report.html import fmt

    assert f"{fmt(mu)} ± {fmt(sd)}" in docs["report"]
    for d in ("slides.html", "slides.pptx"):  # the talk rounds to 3 significant figures
        assert any(_same_shown(m, repr(mu)) and _same_shown(s, repr(sd)) for m, s in _pairs(docs[d])), d
    # the learning-curve reading: the same change and the same scores wherever it is read
    moves = _find(docs, r"moves ([+-]\d+\.\d)% \((\d[\d.]*) to (\d[\d.]*)\)")
    assert "report" in moves
    for i, what in enumerate(("learning-curve change %", "score at the smallest size", "score at full size")):
        _agree({k: [x[i] for x in xs] for k, xs in moves.items()}, what)


def test_reliability_legend_gives_the_tables_ece():
    """The reliability diagram's legend and uncertainty.json (the report's table) give the same
    ECE and Brier: both the mean over folds."""
    from assay.explanation.plots import reliability_label
    from assay.explanation.uncertainty import classification_calibration_metrics

    rng = np.random.default_rng(0)
    n = 400
    rows = pd.DataFrame({"fold": np.repeat(np.arange(4), n // 4), "y_true": rng.integers(0, 2, n),
                         "proba": rng.uniform(0, 1, n)})
    label = reliability_label(rows, "proba", "uncalibrated")
    per = [classification_calibration_metrics(g["y_true"], g["proba"]) for _, g in rows.groupby("fold")]
    table_ece = float(np.mean([p["ece"] for p in per]))  # as explanation/trust.py writes it
    pooled = classification_calibration_metrics(rows["y_true"], rows["proba"])["ece"]
    assert f"ECE {table_ece:.3f}" in label
    assert abs(pooled - table_ece) > 0.001  # the pooled figure would have disagreed
