"""The lecture items of the report on the shared small run: feature distributions with
feature-level outliers (in Data preparation), counterfactuals of the worst rows, the
chemical-space map and the periodic table (in Outliers worth a look); quick on a rebuild."""
import time

from assay.report.builder import ReportBuilder
from assay.report.report import build_report
from assay.report.sections import outliers


def test_lecture_items_are_in_the_report(small_run):
    b, sections, doc = build_report(small_run)
    s = {x.id: x for x in sections}
    data, out = s["data"].html, s["outliers"].html
    assert "Feature distributions and feature-level outliers" in data and "--clip-features" in data
    assert "|robust z| &gt; 5" in data and "This run did not clip features" in data
    assert {"feature-distributions", "chemical-space", "periodic-table"} <= set(b.figures)
    assert "Chemical-space map" in out and "PC1" not in out  # axes are in the figure
    assert "Elements: where the data and the errors are" in out and "largest mean error" in out
    assert "Counterfactuals" in out and "<th class=\"l\">edits</th>" in out
    assert any("makes the refit model predict" in m for m in s["outliers"].md)
    t0 = time.perf_counter()
    build_report(small_run)  # the slides and the notebook rebuild the sections: memoised
    assert time.perf_counter() - t0 < 30


def test_structure_runs_skip_counterfactuals_with_a_sentence(small_run):
    b = ReportBuilder(small_run)
    b.run.dataset["input_type"] = "structure"
    html, md = outliers._counterfactuals(b, outliers._worst(b.run))
    assert "trained on structures" in html and md == []
