"""Small HTML building blocks for self-contained documents (no external assets, no JS needed)."""
from __future__ import annotations

import base64
import html as _html
import math
from pathlib import Path

import numpy as np
import pandas as pd

CSS = """
:root{--fg:#1d1d1f;--muted:#5a5a5f;--line:#d6d6db;--accent:#b3261e;--bg2:#f5f5f7;--ok:#1b7a33;--no:#b3261e;--na:#6b6b70}
*{box-sizing:border-box}
html{font-size:15px}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);
 line-height:1.5;margin:0;background:#fff}
main{max-width:1000px;margin:0 auto;padding:1.5rem 1.25rem 4rem}
header.top{border-bottom:3px solid var(--accent);margin-bottom:1rem;padding-bottom:.6rem}
header.top h1{margin:.2rem 0;font-size:1.9rem;line-height:1.2}
.sub{color:var(--muted)}
nav.toc{background:var(--bg2);border-radius:8px;padding:.6rem 1rem;margin:1rem 0;columns:2;column-gap:2rem;font-size:.95rem}
nav.toc a{color:var(--fg);text-decoration:none}nav.toc a:hover{text-decoration:underline}
nav.toc ol{margin:0;padding-left:1.3rem}
.keyfacts{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:.6rem;margin:1rem 0}
.keyfacts div{background:var(--bg2);border-radius:8px;padding:.5rem .75rem}
.keyfacts b{display:block;font-size:1.25rem}
.keyfacts span{color:var(--muted);font-size:.85rem}
section.sec{margin-top:2.2rem}
h2{font-size:1.45rem;border-bottom:1px solid var(--line);padding-bottom:.2rem;margin-bottom:.6rem}
h3{font-size:1.1rem;margin:1.3rem 0 .4rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.9rem;max-width:100%}
td,th{border:1px solid var(--line);padding:.25rem .5rem;text-align:right;vertical-align:top}
th{background:var(--bg2);font-weight:600}
td.l,th.l{text-align:left}
tr.ours td{background:#fff1c2;font-weight:600}
.tablewrap{overflow-x:auto}
figure{margin:1rem 0;page-break-inside:avoid;break-inside:avoid}
figure img{max-width:100%;height:auto;border:1px solid var(--line);border-radius:4px}
figcaption{color:var(--muted);font-size:.88rem}
.figrow{display:flex;flex-wrap:wrap;gap:1rem}.figrow figure{flex:1 1 300px}
.note{color:var(--muted);font-size:.9rem}
.comp{display:inline-block;max-width:30em;white-space:normal;overflow-wrap:anywhere}
.nw{white-space:nowrap}
.missing{border-left:4px solid #e0a800;background:#fff8e1;padding:.5rem .8rem;margin:.8rem 0;border-radius:0 6px 6px 0}
.missing b{color:#7a5a00}
.finding{border-left:4px solid #3182bd;background:#eef5fb;padding:.5rem .8rem;margin:.8rem 0;border-radius:0 6px 6px 0}
.ans{font-weight:700;text-transform:uppercase;font-size:.8rem;padding:.05rem .4rem;border-radius:4px;color:#fff;white-space:nowrap}
.ans.yes{background:var(--ok)}.ans.no{background:var(--no)}.ans.na{background:var(--na)}
.statement{border:2px dashed var(--line);padding:.8rem 1rem;border-radius:8px;min-height:4rem;background:#fcfcfd}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}
pre{background:var(--bg2);padding:.6rem .8rem;border-radius:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
a{color:#1f5fa8}
footer{margin-top:3rem;color:var(--muted);font-size:.85rem;border-top:1px solid var(--line);padding-top:.5rem}
@media (max-width:700px){nav.toc{columns:1}html{font-size:14px}}
@media print{
 @page{size:A4;margin:14mm 12mm}
 html{font-size:10.5pt}
 main{max-width:none;padding:0}
 nav.toc{columns:2;background:none;border:1px solid var(--line)}
 a{color:inherit;text-decoration:none}
 section.sec{page-break-before:auto;margin-top:1.2rem}
 h2,h3{page-break-after:avoid;break-after:avoid}
 table,figure,.finding,.missing{page-break-inside:avoid;break-inside:avoid}
 .tablewrap{overflow:visible}
 figure img{max-height:120mm;width:auto;border:none}
 .noprint{display:none}
 .ans{color:#000;border:1px solid #000;background:none!important}
}
"""


def esc(x) -> str:
    return _html.escape("" if x is None else str(x))


def fmt(x, nd: int | None = None) -> str:
    """Numbers to text with sensible precision (4 significant digits by default)."""
    if x is None:
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        return f"{int(x):,}"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return esc(x)
    if math.isnan(v):
        return "–"
    if nd is not None:
        return f"{v:.{nd}f}"
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
        return f"{v:.3e}"
    if abs(v) >= 100:
        return f"{v:.1f}"
    return f"{v:.4g}" if abs(v) >= 1 else f"{v:.4f}"


def pm(mean, std) -> str:
    return f"{fmt(mean)} ± {fmt(std)}"


def table(rows: list[list], header: list[str], left: int = 1, highlight: set[int] | None = None,
          raw: bool = False, cls: str = "") -> str:
    """rows of cells (already-formatted strings if ``raw``; else escaped/formatted)."""
    highlight = highlight or set()
    th = "".join(f'<th class="{"l" if i < left else ""}">{esc(h)}</th>' for i, h in enumerate(header))
    body = []
    for r, row in enumerate(rows):
        cells = []
        for i, c in enumerate(row):
            text = c if raw or isinstance(c, Raw) else (fmt(c) if not isinstance(c, str) else esc(c))
            cells.append(f'<td class="{"l" if i < left else ""}">{text}</td>')
        body.append(f'<tr{" class=ours" if r in highlight else ""}>{"".join(cells)}</tr>')
    return (f'<div class="tablewrap"><table class="{cls}"><thead><tr>{th}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


class Raw(str):
    """A cell that is already HTML."""


def df_table(df: pd.DataFrame, left: int = 1, index: bool = False) -> str:
    if index:
        df = df.reset_index()
    return table(df.values.tolist(), [str(c) for c in df.columns], left=left)


def kv_table(d: dict, header=("item", "value")) -> str:
    return table([[k, v if isinstance(v, (str, int, float)) or v is None else str(v)]
                  for k, v in d.items()], list(header), left=2)


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def file_uri(path: Path) -> str:
    path = Path(path)
    mime = "image/svg+xml" if path.suffix == ".svg" else "image/png"
    return data_uri(path.read_bytes(), mime)


def figure(fig_id: str, src: str, caption: str, alt: str | None = None) -> str:
    return (f'<figure id="fig-{esc(fig_id)}" data-figure="{esc(fig_id)}"><img src="{src}" '
            f'alt="{esc(alt or caption)}" loading="eager"><figcaption>{caption}</figcaption></figure>')


def missing(step: str, how: str) -> str:
    """A plain statement that a step was not run, and how to run it."""
    return f'<div class="missing" data-missing="{esc(step)}"><b>Not run: {esc(step)}.</b> {how}</div>'


def finding(text: str) -> str:
    return f'<div class="finding">{text}</div>'


def answer(a: str) -> str:
    cls = {"yes": "yes", "no": "no"}.get(a, "na")
    label = {"yes": "yes", "no": "no"}.get(a, "n/a")
    return f'<span class="ans {cls}">{label}</span>'


def bibtex_fields(bib: str) -> dict[str, str]:
    """Fields of one BibTeX entry (``key = {value}`` or ``key = "value"``, braces nested)."""
    out, i, n = {}, bib.find(",") + 1, len(bib)
    while 0 < i < n:
        eq = bib.find("=", i)
        if eq < 0:
            break
        key = bib[i:eq].strip(" ,\n\t").lower()
        j = eq + 1
        while j < n and bib[j] in " \t\n":
            j += 1
        if j < n and bib[j] in "{\"":
            close, depth, k = ("}" if bib[j] == "{" else "\""), 0, j
            while k < n:
                c = bib[k]
                if bib[j] == "{":
                    depth += (c == "{") - (c == "}")
                    if depth == 0:
                        break
                elif c == "\"" and k > j:
                    break
                k += 1
            val, i = bib[j + 1:k], k + 1
        else:
            k = bib.find(",", j)
            k = n if k < 0 else k
            val, i = bib[j:k].strip(" }\n"), k
        out[key] = " ".join(val.replace("{", "").replace("}", "").split())
        i = bib.find(",", i) + 1 if bib.find(",", i) >= 0 else n
    return out


def format_citation(bib: str) -> str:
    """A BibTeX entry as a readable reference (HTML): authors (year). Title. Journal volume, pages. DOI link.
    Text that is not BibTeX is returned escaped."""
    if not bib.lstrip().startswith("@"):
        return esc(bib)
    f = bibtex_fields(bib)
    names = [a.strip() for a in f.get("author", "").split(" and ") if a.strip()]
    names = [a.split(",")[0].strip() if "," in a else a.split()[-1] for a in names]
    who = (", ".join(names[:3]) + (" et al." if len(names) > 3 else "")) or "Anon."
    where = " ".join(x for x in (f.get("journal") or f.get("booktitle") or f.get("publisher", ""),
                                 f.get("volume", "") + (f"({f['number']})" if f.get("number") else ""),
                                 f.get("pages", "")) if x)
    doi = f.get("doi")
    link = f' <a href="https://doi.org/{esc(doi)}">doi:{esc(doi)}</a>' if doi else ""
    return (f"{esc(who)} ({esc(f.get('year', 'n.d.'))}). {esc(f.get('title', ''))}."
            + (f" <i>{esc(where)}</i>." if where else "") + link)
