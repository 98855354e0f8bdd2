"""The printable reply letter (答复函), laid out to GB/T 9704-2012, letter format (信函格式).

The letter is a Chinese official document: its fixed wording (the receipt invitation,
联系人, 抄送, the QR caption) is content, not interface text, so it is not translated.

WeasyPrint (30 MB with Pango's bindings and fontTools) is imported on the first PDF a
worker renders, not when the URLs load: most workers of a busy site never render one.
"""

import math
import re
import threading

import segno
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .services.text import RECEIPT_INVITATION, SECTION_HEADING_MAX_CHARS, letter_paragraphs

QR_CAPTION = "扫码填写回执"

# （一） as a paragraph of its own, or 一是…。 leading a sentence: the second level (楷体).
SUBHEADING = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")
RUN_IN = re.compile(r"(?:^|(?<=[。；：]))([一二三四五六七八九十]+是[^。；：\n]{1,40}?[。；])")

LETTERHEAD_MAX_PT = 36
# The letterhead stays inside 150 mm, leaving air at the sides of the 156 mm text block.
LETTERHEAD_WIDTH_PT = 150 * 72 / 25.4


def _blocks(body):
    """Paragraphs as (css class, safe HTML): headings, 楷体 subheadings and run-ins."""
    blocks = []
    for kind, text in letter_paragraphs(body):
        if kind == "heading":
            blocks.append(("heading", escape(text)))
        elif SUBHEADING.match(text) and len(text) < SECTION_HEADING_MAX_CHARS:
            blocks.append(("subheading", escape(text)))
        else:
            # Escape piece by piece so the 楷体 spans are the only markup.
            parts = RUN_IN.split(text)
            html = "".join(
                f'<span class="run-in">{escape(part)}</span>' if i % 2 else escape(part)
                for i, part in enumerate(parts)
            )
            blocks.append(("para", mark_safe(html)))  # every part is escaped
    return blocks


# Title lines (2号 on 156 mm hold 20 characters) break where the sense allows, and are
# balanced, as GB/T 9704 asks (词意完整，排列对称).
TITLE_LINE_UNITS = 20
TITLE_BREAKS = re.compile(
    r"(?=关于)|(?<=委员会)|(?<=会议)|(?=第[0-9]+号)|(?<=提案)|(?=的答复函)|(?=的会办意见)"
)
TITLE_ODD_BREAK_PENALTY = 50
NO_BREAK_BEFORE = set("，。、；：？！）》〕」』”’")
NO_BREAK_AFTER = set("（《〔「『“‘")


def _units(ch):
    return 0.55 if ch.isascii() else 1.0


def title_lines(title, unit_name=""):
    """The title cut into balanced lines at sensible places; one line when it fits."""
    widths = [_units(ch) for ch in title]
    total = sum(widths)
    count = math.ceil(total / TITLE_LINE_UNITS)
    if count <= 1:
        return [title]
    preferred = {m.start() for m in TITLE_BREAKS.finditer(title)}
    if unit_name and title.startswith(unit_name):
        preferred.add(len(unit_name))
    penalty = {}
    for i in range(1, len(title)):
        before, after = title[i - 1], title[i]
        if after in NO_BREAK_BEFORE or before in NO_BREAK_AFTER:
            continue
        if before.isascii() and after.isascii():
            continue
        penalty[i] = 0 if i in preferred else TITLE_ODD_BREAK_PENALTY
    penalty[len(title)] = 0
    target = total / count

    def line_cost(start, end):
        width = sum(widths[start:end])
        if width > TITLE_LINE_UNITS:
            return None
        return (width - target) ** 2 + penalty[end]

    # best[k][end]: (cost, start of the last line) for the first `end` chars in k lines.
    best = [{0: (0, None)}]
    for _k in range(count):
        row = {}
        for start, (cost, _) in best[-1].items():
            for end in penalty:
                if end <= start:
                    continue
                extra = line_cost(start, end)
                if extra is not None and (end not in row or cost + extra < row[end][0]):
                    row[end] = (cost + extra, start)
        best.append(row)
    if len(title) not in best[count]:
        return [title]
    lines, end = [], len(title)
    for k in range(count, 0, -1):
        start = best[k][end][1]
        lines.append(title[start:end])
        end = start
    return lines[::-1]


def _letterhead_size(name):
    """The largest size up to 小初 (36 pt) at which the unit's name fits one line."""
    return min(LETTERHEAD_MAX_PT, int(LETTERHEAD_WIDTH_PT / max(len(name), 1)))


def _long_date(date):
    return f"{date.year}年{date.month}月{date.day}日" if date else ""


def _contact_note(letter):
    parts = []
    if letter.contact_person:
        parts.append(f"联系人：{letter.contact_person}")
    if letter.contact_phone:
        parts.append(f"联系电话：{letter.contact_phone}")
    return "，".join(parts)


def _qr_data_uri(url):
    return segno.make(url, error="m").svg_data_uri(border=0, nl=False)


_local = threading.local()


def _font_config():
    # Building a font configuration reads every installed font; do it once per thread
    # (Pango objects are not shared across threads).
    if getattr(_local, "font_config", None) is None:
        from weasyprint.text.fonts import FontConfiguration

        _local.font_config = FontConfiguration()
    return _local.font_config


def _stylesheet():
    import weasyprint

    return weasyprint.CSS(filename=finders.find("css/letter-print.css"))


def render_letter_html(letter, proposer=None, receipt_url=None):
    """The letter as the HTML WeasyPrint lays out."""
    return render_to_string(
        "replies/letter_pdf.html", letter_context(letter, proposer, receipt_url)
    )


def letter_context(letter, proposer=None, receipt_url=None):
    """What the letter template shows: the letter as the unit wrote it (staff, proposers)."""
    unit = letter.assignment.unit
    cc_units = [cc.name for cc in letter.cc_units.all()]
    return {
        "letter": letter,
        "unit": unit,
        "unit_name": unit.name,
        "letterhead_size": _letterhead_size(unit.name),
        "title_lines": title_lines(letter.title, unit.name),
        "salutation": letter.salutation,
        "blocks": _blocks(letter.body),
        "closing": (letter.attestation or "") + RECEIPT_INVITATION,
        "long_date": _long_date(letter.letter_date),
        "contact_note": _contact_note(letter),
        "cc_line": "，".join(cc_units) + "。" if cc_units else "",
        "proposer": proposer,
        "qr_uri": _qr_data_uri(receipt_url) if receipt_url else "",
        "qr_caption": QR_CAPTION,
    }


def public_letter_context(letter, publication):
    """The public version: the publication's title and text as the public column shows them,
    and nothing personal — no contact person or phone, no receipt QR, no copy list."""
    unit_name = publication.unit_name or letter.assignment.unit.name
    summary = letter.disclosure == letter.Disclosure.SUMMARY
    attestation = publication.attestation or letter.attestation or ""
    letter_date = publication.letter_date or letter.letter_date
    if letter_date is None and letter.published_at:
        letter_date = letter.published_at.date()
    return {
        "letter": letter,
        "unit": letter.assignment.unit,
        "unit_name": unit_name,
        "letterhead_size": _letterhead_size(unit_name),
        "title_lines": title_lines(publication.title, unit_name),
        "salutation": "答复摘要" if summary else letter.salutation,
        "blocks": _blocks(publication.text),
        "closing": "" if summary else attestation + RECEIPT_INVITATION,
        "long_date": _long_date(letter_date),
        "contact_note": "",
        "cc_line": "",
        "proposer": None,
        "qr_uri": "",
        "qr_caption": "",
    }


def _render(html):
    import weasyprint

    document = weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR))
    return document.render(stylesheets=[_stylesheet()], font_config=_font_config())


def render_letter_document(letter, proposer=None, receipt_url=None):
    """The laid-out letter (a WeasyPrint Document): pages to inspect or write."""
    return _render(render_letter_html(letter, proposer, receipt_url))


def render_letter_pdf(letter, proposer=None, receipt_url=None):
    """The letter as PDF bytes. With receipt_url, a QR code to the proposer's receipt."""
    return render_letter_document(letter, proposer, receipt_url).write_pdf()


def render_public_pdf(letter, publication):
    """The public version of a published letter (one publication of it), as PDF bytes."""
    html = render_to_string("replies/letter_pdf.html", public_letter_context(letter, publication))
    return _render(html).write_pdf()


PAGE_QR_CAPTION = "扫一扫在手机打开当前页"


def page_qr_svg(url):
    """An inline SVG QR code of a page's address, to open it on a phone (an image named by
    its caption for screen readers)."""
    svg = segno.make(url, error="m").svg_inline(scale=4, border=2, svgclass="qr-code")
    # segno writes the SVG itself (the URL is only encoded, never written into it).
    return mark_safe(svg.replace("<svg ", f'<svg role="img" aria-label="{PAGE_QR_CAPTION}" ', 1))
