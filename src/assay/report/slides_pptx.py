"""The talk as a PowerPoint file (python-pptx): one 16:9 slide per slide record, laid out like the
HTML deck (the same 1280 x 720 box, at 96 px per inch): the bullets on the left, the report's
figure on the right with its caption, the run and slide number at the foot, the speaker notes
in the notes pane. Fonts are chosen with the HTML's estimate so the text fits its box."""
from __future__ import annotations

import base64
import io
from pathlib import Path

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_AUTO_SIZE, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from .slides_html import font_px

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
PX = 1 / 96  # inches per CSS pixel
FIG_W, GAP, MARGIN = 520 * PX, 28 * PX, 48 * PX
TEXT_TOP, TEXT_H = 1.25, 5.55  # inches
GREY = RGBColor(0x5A, 0x5A, 0x5F)


def _png(uri: str) -> bytes | None:
    """PNG bytes of a data URI (SVG figures are left out: PowerPoint cannot place them)."""
    head, _, data = uri.partition(",")
    if not head.startswith("data:image/png") or ";base64" not in head:
        return None
    return base64.b64decode(data)


def _text(sl, left, top, width, height, lines, size_pt, bullet="• ", color=None):
    box = sl.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
    tf = box.text_frame
    tf.word_wrap = True
    tf.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE  # a safety net: PowerPoint shrinks what overflows
    for i, line in enumerate(lines):
        para = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        para.text = bullet + line
        para.font.size = Pt(size_pt)
        if color is not None:
            para.font.color.rgb = color
        para.space_after = Pt(size_pt * 0.45)
    return box


def _picture(sl, img: bytes, left: float, top: float, max_w: float, max_h: float):
    """Place an image scaled to fit (max_w x max_h inches), centred in that box."""
    pic = sl.shapes.add_picture(io.BytesIO(img), Inches(left), Inches(top))
    scale = min(Inches(max_w) / pic.width, Inches(max_h) / pic.height)
    pic.width, pic.height = Emu(int(pic.width * scale)), Emu(int(pic.height * scale))
    pic.left = Emu(int(Inches(left) + (Inches(max_w) - pic.width) / 2))
    return pic


def write_pptx(slides, path: Path, foot: str = "") -> Path:
    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    title_layout, body_layout = prs.slide_layouts[0], prs.slide_layouts[5]  # title; title only
    total = len(slides)
    for n, s in enumerate(slides, 1):
        if s.id == "title":
            sl = prs.slides.add_slide(title_layout)
            sl.shapes.title.text = s.title
            sub = sl.placeholders[1]
            sub.text = "\n".join(s.subtitle)
            for para in sub.text_frame.paragraphs:
                para.font.size = Pt(22)
        else:
            sl = prs.slides.add_slide(body_layout)
            t = sl.shapes.title
            t.text = s.title
            t.left, t.top, t.width, t.height = Inches(0.5), Inches(0.3), Inches(12.3), Inches(0.85)
            t.text_frame.paragraphs[0].font.size = Pt(32)
            img = _png(s.figure.uri) if s.figure is not None else None
            text_w = 13.333 - 2 * MARGIN - ((FIG_W + GAP) if s.figure is not None else 0)
            size_px = font_px(s.bullets, (text_w - 26 * PX) / PX)
            _text(sl, MARGIN, TEXT_TOP, text_w, TEXT_H, s.bullets, size_px * 0.75)
            if img:
                left = 13.333 - MARGIN - FIG_W
                cap_h = 0.2 + 0.2 * (len(s.caption) // 75)
                pic = _picture(sl, img, left, TEXT_TOP, FIG_W, TEXT_H - cap_h - 0.1)
                cap_top = (pic.top + pic.height) / 914400 + 0.08
                _text(sl, left, cap_top, FIG_W, cap_h, [s.caption], 10.5, bullet="", color=GREY)
        _text(sl, MARGIN, 7.5 - 0.45, 10.0, 0.3, [foot], 10, bullet="", color=GREY)
        _text(sl, 13.333 - MARGIN - 1.5, 7.5 - 0.45, 1.5, 0.3, [f"{n} / {total}"], 10, bullet="",
              color=GREY).text_frame.paragraphs[0].alignment = PP_ALIGN.RIGHT
        sl.notes_slide.notes_text_frame.text = s.notes
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    prs.save(str(tmp))
    tmp.replace(path)
    return path
