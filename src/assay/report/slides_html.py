"""The talk as one self-contained HTML page: every slide a fixed 1280 x 720 box (16:9, the
PowerPoint's 13.33 x 7.5 inches at 96 px per inch), scaled to the window on screen, one page each
when printed (``@page`` of the same size, a page break after each slide). The arrow keys move
between slides; ``n`` shows the speaker notes. A font size is chosen per slide so that its text
fits; a small script shrinks it further in the browser if a long word still overflows."""
from __future__ import annotations

from .html import esc

W, H = 1280, 720  # px; the .pptx uses the same box in inches (px / 96)

SLIDE_CSS = f"""
*{{box-sizing:border-box}}html,body{{margin:0;background:#2b2b2e}}
body{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1d1d1f}}
.slide{{height:100vh;display:flex;align-items:center;justify-content:center;overflow:hidden}}
.inner{{flex:none;width:{W}px;height:{H}px;background:#fff;padding:34px 48px 22px;display:flex;
 flex-direction:column;transform:scale(var(--k,1));overflow:hidden;position:relative}}
h1{{font-size:46px;line-height:1.15;margin:150px 0 28px;color:#1d1d1f}}
.sub p{{font-size:24px;margin:6px 0;color:#444}}
h2{{font-size:34px;margin:0 0 16px;padding-bottom:8px;border-bottom:4px solid #b3261e;line-height:1.15}}
.cols{{display:flex;gap:28px;flex:1;min-height:0}}
.text{{flex:1 1 0;min-width:0;overflow:hidden}}.fig{{flex:0 0 520px;display:flex;min-height:0}}
ul{{margin:0;padding-left:26px;line-height:1.3}}li{{margin-bottom:.45em}}
figure{{margin:0;display:flex;flex-direction:column;justify-content:center;min-height:0;width:100%}}
figure img{{max-width:100%;max-height:500px;object-fit:contain;align-self:center}}
figcaption{{font-size:14px;color:#5a5a5f;margin-top:6px;line-height:1.3}}
.foot{{font-size:13px;color:#888;margin-top:8px;display:flex;justify-content:space-between}}
aside.notes{{display:none;position:absolute;left:0;right:0;bottom:0;background:#fffbe6;
 border-top:2px solid #e0a800;padding:10px 48px;font-size:17px;line-height:1.35}}
body.show-notes aside.notes{{display:block}}
@media print{{@page{{size:{W}px {H}px;margin:0}}
 html,body{{background:#fff}}
 .slide{{width:{W}px;height:{H}px;break-after:page;page-break-after:always;break-inside:avoid}}
 .slide:last-of-type{{break-after:auto;page-break-after:auto}}
 .inner{{transform:none}}aside.notes,body.show-notes aside.notes{{display:none}}}}
"""

SCRIPT = f"""
(function(){{
var W={W},H={H};
function fit(){{var k=Math.min(innerWidth/W,innerHeight/H)*0.98;
 document.documentElement.style.setProperty('--k',k>0?k:1);}}
function shrink(){{[].forEach.call(document.querySelectorAll('.text'),function(t){{
 var f=parseFloat(getComputedStyle(t).fontSize);
 while(t.scrollHeight>t.clientHeight+1&&f>13){{f-=1;t.style.fontSize=f+'px';}}}});}}
fit();shrink();addEventListener('resize',fit);addEventListener('load',shrink);
addEventListener('beforeprint',function(){{document.documentElement.style.setProperty('--k',1);}});
addEventListener('afterprint',fit);
document.addEventListener('keydown',function(e){{
 var s=[].slice.call(document.querySelectorAll('.slide')),i=Math.round(scrollY/innerHeight);
 if(e.key==='n'){{document.body.classList.toggle('show-notes');return;}}
 if(['ArrowDown','ArrowRight','PageDown',' '].indexOf(e.key)>=0){{i=Math.min(i+1,s.length-1);}}
 else if(['ArrowUp','ArrowLeft','PageUp'].indexOf(e.key)>=0){{i=Math.max(i-1,0);}}else{{return;}}
 e.preventDefault();s[i].scrollIntoView();}});
}})();
"""


def font_px(lines: list[str], width_px: float, height_px: float = 520) -> int:
    """The largest font size (px) at which ``lines`` fit a box, estimated from characters per
    line (an average glyph is ~0.5 em wide) and 1.3 line height plus the gap after each bullet.
    The .pptx uses the same estimate, in points."""
    for size in (26, 24, 22, 20, 19, 18, 17, 16, 15, 14):
        per_line = max(1, int(width_px / (0.5 * size)))
        n_lines = sum(1 + len(x) // per_line for x in lines)
        if n_lines * size * 1.3 + len(lines) * 0.45 * size <= height_px:
            return size
    return 13


def _slide(s, n: int, total: int, foot: str) -> str:
    notes = f'<aside class="notes" data-notes>{esc(s.notes)}</aside>'
    footer = f'<div class="foot"><span>{foot}</span><span>{n} / {total}</span></div>'
    if s.id == "title":
        body = (f"<h1>{esc(s.title)}</h1><div class=sub>"
                + "".join(f"<p>{esc(x)}</p>" for x in s.subtitle) + "</div>")
        return (f'<section class="slide" id="title" data-slide="title"><div class="inner">{body}'
                f'<div style="margin-top:auto"></div>{footer}{notes}</div></section>')
    fig = ""
    text_w = W - 96
    if s.figure is not None:
        f = s.figure
        fig = (f'<div class="fig"><figure data-figure="{esc(f.id)}"><img src="{f.uri}" '
               f'alt="{esc(s.caption)}"><figcaption>{esc(s.caption)}</figcaption></figure></div>')
        text_w -= 520 + 28
    size = font_px(s.bullets, text_w - 26)
    ul = "<ul>" + "".join(f"<li>{esc(x)}</li>" for x in s.bullets) + "</ul>"
    return (f'<section class="slide" id="{esc(s.id)}" data-slide="{esc(s.id)}"><div class="inner">'
            f'<h2>{esc(s.title)}</h2><div class="cols"><div class="text" style="font-size:{size}px">'
            f"{ul}</div>{fig}</div>{footer}{notes}</div></section>")


def render_html(slides, run_id: str, title: str) -> str:
    foot = esc(f"assay · run {run_id}")
    body = "".join(_slide(s, i + 1, len(slides), foot) for i, s in enumerate(slides))
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{esc(title)}: slides</title>
<style>{SLIDE_CSS}</style></head><body>{body}<script>{SCRIPT}</script></body></html>"""
