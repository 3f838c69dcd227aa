"""The report's public names, where they have always been imported from.

The report is built in :mod:`assay.report.builder` from one module per section
(:mod:`assay.report.sections`); this module only re-exports.
"""
from __future__ import annotations

from .builder import Figure, ReportBuilder, Section, build_report, render, write_report
from .evidence import normalise_learning_curve
from .facts import ReportFacts
from .sections import SECTIONS, TITLES
from .sections.interpretation import EXPLAIN_HOW, render_json
from .sections.outliers import pretty_formula
from .sections.reproducibility import CLI_FLAGS, cli_equivalent, reproduce_command
from .sections.training import SPLIT_WHY

__all__ = ["CLI_FLAGS", "EXPLAIN_HOW", "Figure", "ReportBuilder", "ReportFacts", "SECTIONS",
           "SPLIT_WHY", "Section", "TITLES", "build_report", "cli_equivalent",
           "normalise_learning_curve", "pretty_formula", "render", "render_json",
           "reproduce_command", "write_report"]
