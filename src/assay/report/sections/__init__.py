"""One module per section of the report; each has ``build(b)``, which adds its section to the
:class:`~assay.report.builder.ReportBuilder` ``b`` (and may fill ``b.facts``).

The order and the titles are here; the notebook and the slides use the same titles.
"""
from __future__ import annotations

#: (id, title) of every section, in order.
SECTIONS = [
    ("problem", "Problem"),
    ("data", "Data preparation"),
    ("model-choice", "Model choice"),
    ("training", "Training and testing"),
    ("interpretation", "Interpretation, uncertainty and domain"),
    ("leaderboard", "Leaderboard"),
    ("checklist", "The ML reporting checklist"),
    ("outliers", "Outliers worth a look"),
    ("beyond", "Beyond one static table"),
    ("reproducibility", "Reproducibility"),
    ("declarations", "Declarations"),
]
TITLES = dict(SECTIONS)
