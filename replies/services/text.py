"""How a letter's plain text reads: paragraphs and numbered headings."""

import re

RECEIPT_INVITATION = "对以上答复有什么意见，请填写在答复函回执单上，以便进一步改进工作。"

# 一、 … 十二、: a first-level heading when the paragraph is short.
SECTION_HEADING = re.compile(r"^[一二三四五六七八九十]+、")
SECTION_HEADING_MAX_CHARS = 40


def letter_paragraphs(body):
    """A plain-text body as [(kind, text)], kind "heading" or "para": one per non-blank line.

    The one reading of a letter's text, for the staff page, the diff, the public page,
    the receipt page and the PDF alike.
    """
    paragraphs = []
    for line in body.splitlines():
        text = line.strip()
        if not text:
            continue
        is_heading = SECTION_HEADING.match(text) and len(text) < SECTION_HEADING_MAX_CHARS
        paragraphs.append(("heading" if is_heading else "para", text))
    return paragraphs


def round_suffix(round_number):
    """（第2轮答复） after a reply's title, after re-handling; nothing for the first round."""
    return f"（第{round_number}轮答复）" if round_number > 1 else ""
