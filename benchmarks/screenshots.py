"""Render a run's report and talk with headless Chromium, to look at them as a reader would.

    python benchmarks/screenshots.py RUN [--out test-artifacts] [--chromium chromium]

Writes into OUT/<run id>/: ``report-top.png`` and one view per report section
(``report-<section>.png``, the window scrolled to it), ``slide-NN-<id>.png`` for every slide of
``slides.html`` (the 1280 x 720 window the deck is designed for), and ``slides.pdf`` printed the
way a browser prints it; then checks that the PDF has exactly one page per slide. RUN/report.html
and RUN/slides.html are written first if absent (``--rebuild`` rewrites them); nothing else in
RUN is touched.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from assay.report.browser import Chromium, find_chromium, print_to_pdf

SECTIONS = ("data", "model-choice", "training", "interpretation", "outliers", "checklist")


class Browser:
    """One page of headless Chromium (assay.report.browser): open it at a window size, run a
    script, capture the window."""

    def __init__(self, exe: str):
        self.chromium = Chromium(exe, extra_flags=("--hide-scrollbars",))
        self.page = self.chromium.new_page(timeout=120)
        self.call("Page.enable")

    def call(self, method: str, **params) -> dict:
        return self.page.call(method, **params)

    def open(self, url: str, width: int, height: int) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)
        self.call("Page.navigate", url=url)
        while self.js("document.readyState") != "complete":
            time.sleep(0.2)
        time.sleep(0.5)

    def js(self, expr: str):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        return r.get("result", {}).get("value")

    def shot(self, png: Path) -> Path:
        time.sleep(0.2)
        return self.page.screenshot(png)

    def close(self):
        self.page.close()
        self.chromium.close()


#: JS: the slides whose text or figure overflows its box (what a reader would see cut).
OVERFLOW_JS = """[...document.querySelectorAll('section.slide')].filter(s => {
  const t = s.querySelector('.text'), i = s.querySelector('.inner');
  return (t && t.scrollHeight > t.clientHeight + 1) || i.scrollHeight > i.clientHeight + 1
    || [...s.querySelectorAll('img')].some(g => g.getBoundingClientRect().bottom >
                                             i.getBoundingClientRect().bottom + 1);
}).map(s => s.id)"""


def pdf_pages(pdf: Path) -> int:
    """Pages of a PDF, counted from its page objects (Chromium writes them uncompressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--out", type=Path, default=Path("test-artifacts"))
    ap.add_argument("--chromium", default=None)
    ap.add_argument("--rebuild", action="store_true", help="rewrite report.html and slides.html first")
    a = ap.parse_args(argv)
    exe = a.chromium or find_chromium()
    if exe is None:
        sys.exit("no chromium found (apt-get install chromium)")
    run = a.run.resolve()
    report, slides = run / "report.html", run / "slides.html"
    if a.rebuild or not report.is_file():
        from assay.report.builder import write_report
        write_report(run)
    if a.rebuild or not slides.is_file():
        from assay.report.slides import write_slides
        write_slides(run)
    out = (a.out / run.name).resolve()
    out.mkdir(parents=True, exist_ok=True)
    br = Browser(exe)
    try:
        br.open(report.as_uri(), 1280, 1000)
        made = [br.shot(out / "report-top.png")]
        for sec in SECTIONS:
            if br.js(f"!!document.getElementById('{sec}')"):
                br.js(f"document.getElementById('{sec}').scrollIntoView()")
                made.append(br.shot(out / f"report-{sec}.png"))
        br.open(slides.as_uri(), 1280, 720)
        ids = br.js("[...document.querySelectorAll('section.slide')].map(s => s.id)")
        for n, sid in enumerate(ids, 1):
            br.js(f"document.getElementById('{sid}').scrollIntoView()")
            made.append(br.shot(out / f"slide-{n:02d}-{sid}.png"))
        overflow = br.js(OVERFLOW_JS)
        br.call("Emulation.setEmulatedMedia", media="print")  # the page layout a PDF gets
        overflow += [f"{x} (print)" for x in br.js(OVERFLOW_JS)]
        br.js(f"document.getElementById('{ids[1]}').scrollIntoView()")
        made.append(br.shot(out / f"print-slide-02-{ids[1]}.png"))
    finally:
        br.close()
    pdf = out / "slides.pdf"
    print_to_pdf(slides.as_uri(), pdf, exe)
    pages = pdf_pages(pdf)
    for p in made:
        print(p)
    print(f"{pdf}: {pages} pages for {len(ids)} slides; slides overflowing their box: {overflow or 'none'}")
    return 0 if pages == len(ids) and not overflow else 1


if __name__ == "__main__":
    sys.exit(main())
