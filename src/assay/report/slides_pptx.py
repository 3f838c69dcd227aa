"""The talk as a PowerPoint file (python-pptx): one 16:9 slide per :class:`Slide`, the bullets
on the left, the report's figure on the right, the speaker notes in the notes pane."""
from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

from pptx import Presentation
from pptx.util import Emu, Inches, Pt

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)


def _png(uri: str) -> bytes | None:
    """PNG bytes of a data URI (SVG figures are left out: PowerPoint cannot place them)."""
    head, _, data = uri.partition(",")
    if not head.startswith("data:image/png") or ";base64" not in head:
        return None
    return base64.b64decode(data)


def _plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text or ""))


def _fit_font(lines: list[str], width_in: float) -> int:
    """A font size at which the bullets fit the box (rough: characters per line and lines)."""
    for size in (20, 18, 16, 14, 12):
        per_line = max(1, int(width_in * 72 / (0.55 * size)))
        n_lines = sum(1 + len(x) // per_line for x in lines)
        if n_lines * size * 1.35 <= 5.6 * 72:
            return size
    return 11


def write_pptx(slides, path: Path) -> Path:
    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    title_layout, body_layout = prs.slide_layouts[0], prs.slide_layouts[5]  # title; title only
    for s in slides:
        if s.id == "title":
            sl = prs.slides.add_slide(title_layout)
            sl.shapes.title.text = s.title
            sl.placeholders[1].text = "\n".join(s.subtitle)
        else:
            sl = prs.slides.add_slide(body_layout)
            sl.shapes.title.text = s.title
            t = sl.shapes.title
            t.left, t.top, t.width, t.height = Inches(0.5), Inches(0.3), Inches(12.3), Inches(1.0)
            t.text_frame.paragraphs[0].font.size = Pt(32)
            img = _png(s.figure.uri) if s.figure is not None else None
            text_w = 6.6 if img else 12.3
            box = sl.shapes.add_textbox(Inches(0.5), Inches(1.4), Inches(text_w), Inches(5.7))
            tf = box.text_frame
            tf.word_wrap = True
            size = _fit_font(s.bullets, text_w)
            for i, line in enumerate(s.bullets):
                para = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
                para.text = "• " + line
                para.font.size = Pt(size)
                para.space_after = Pt(6)
            if img:
                pic = sl.shapes.add_picture(io.BytesIO(img), Inches(7.3), Inches(1.4))
                scale = min(Inches(5.6) / pic.width, Inches(5.2) / pic.height)
                pic.width, pic.height = Emu(int(pic.width * scale)), Emu(int(pic.height * scale))
                cap = sl.shapes.add_textbox(Inches(7.3), Inches(1.5) + pic.height, Inches(5.6), Inches(0.6))
                cap.text_frame.word_wrap = True
                cap.text_frame.text = _plain(s.figure.caption)
                cap.text_frame.paragraphs[0].font.size = Pt(10)
        sl.notes_slide.notes_text_frame.text = s.notes
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    prs.save(str(tmp))
    tmp.replace(path)
    return path
