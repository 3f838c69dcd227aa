"""Section 7, the ML reporting checklist (answered in :mod:`assay.report.checklist`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..checklist import build_checklist
from ..html import Raw, answer, esc, table
from . import TITLES

if TYPE_CHECKING:
    from ..builder import ReportBuilder


def build(b: ReportBuilder) -> None:
    items = build_checklist(b)
    b.facts.checklist = items
    parts = ["<p>Each item is answered from this run's own files; the link leads to the "
             "section that shows the evidence.</p>"]
    cats = list(dict.fromkeys(i.category for i in items))
    for c in cats:
        rows = [[Raw(esc(i.question)), Raw(answer(i.answer)), Raw(i.evidence),
                 Raw(f'<a href="#{i.section}">{esc(TITLES.get(i.section, i.section))}</a>')]
                for i in items if i.category == c]
        parts.append(f"<h3>{esc(c)}</h3>" + table(rows, ["item", "answer", "evidence", "shown in"],
                                                  left=4, cls="checklist"))
    counts = {a: sum(i.answer == a for i in items) for a in ("yes", "no", "n/a")}
    parts.insert(1, f"<p><b>{counts['yes']}</b> yes, <b>{counts['no']}</b> no, "
                    f"<b>{counts['n/a']}</b> not applicable, of {len(items)} items.</p>")
    b.add("checklist", "".join(parts),
          [f"{counts['yes']} yes, {counts['no']} no, {counts['n/a']} n/a of {len(items)} items."]
          + [f"No: {i.question}" for i in items if i.answer == "no"])
