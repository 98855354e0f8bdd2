"""The printable reply letter: GB/T 9704 letter format, text that survives into the PDF."""

import datetime
import re
import shutil
import subprocess
from itertools import pairwise

import pytest
from weasyprint.formatting_structure import boxes

from replies.models import ReplyLetter
from replies.pdf import (
    TITLE_LINE_UNITS,
    letter_paragraphs,
    render_letter_document,
    render_letter_html,
    render_letter_pdf,
    title_lines,
)

TITLE = "重庆市梁平区科学技术局关于政协重庆市梁平区第十五届委员会第一次会议第069号提案的答复函"
FIRST_SENTENCE = (
    "你提出的《关于加快创建国家级高新区的建议》（第069号提案）收悉，经与区经济信息委、"
    "工业园区管委会、区招商投资局等协办单位共同研究办理，现答复如下："
)
BODY = "\n\n".join(
    [
        FIRST_SENTENCE,
        "国家高新技术产业开发区（以下简称国家高新区）是自主创新的战略高地，是培育和发展"
        "高新技术产业的核心载体，是转变发展方式和调整经济结构的重要引擎。",
        "一、创新工作机制，抓实企业服务",
        "一是拟出台国家高新区方案。梁平区升创国家高新区纳入《重庆市十四五科技创新发展规划》，"
        "拟出台国家高新区创建方案。二是深化“放管服”改革工作机制。设立高新区一站式服务大厅。",
    ]
)
RECEIPT_URL = "http://127.0.0.1:8000/receipts/069-zhanghua/"
# 28 characters of 3号 fill 156 mm; no punctuation, so no line-breaking rule moves a character.
PLAIN_RUN = "国家高新区是自主创新的战略高地培育和发展高新技术产业的核心载体" * 40

needs_poppler = pytest.mark.skipif(
    not shutil.which("pdftotext") or not shutil.which("pdfinfo"),
    reason="poppler-utils (pdftotext, pdfinfo) is not installed; .ci/run must install it",
)


@pytest.fixture
def letter(world):
    letter = ReplyLetter.objects.create(
        assignment=world.lead,
        title=TITLE,
        salutation="张华委员：",
        body=BODY,
        result_class="B",
        letter_date=datetime.date(2022, 7, 20),
        attestation="此答复函已经区科技局主要领导审签。",
        doc_number="梁平科技函〔2022〕45号",
        contact_person="王明",
        contact_phone="023-53221234",
    )
    letter.cc_units.set([world.jxw_unit])
    return letter


def pdf_text(pdf, tmp_path, page=None):
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    pages = ["-f", str(page), "-l", str(page)] if page else []
    result = subprocess.run(
        ["pdftotext", *pages, str(path), "-"], capture_output=True, check=True, text=True
    )
    return result.stdout


def squeeze(text):
    """Text without the line breaks and spaces that layout puts in."""
    return re.sub(r"\s+", "", text)


def box_texts(box):
    if isinstance(box, boxes.TextBox):
        yield box.text
    for child in getattr(box, "children", ()):
        yield from box_texts(child)


def page_text(page):
    # Page keeps its box tree private; the tests read it to see margin boxes too.
    return "".join(box_texts(page._page_box))


def body_lines(page):
    """The text of each line box in the page's flow (margin boxes left out)."""
    root = page._page_box.children[0]
    lines = []

    def walk(box):
        if isinstance(box, boxes.LineBox):
            lines.append("".join(box_texts(box)))
            return
        for child in getattr(box, "children", ()):
            walk(child)

    walk(root)
    return lines


def has_image(box):
    if getattr(box, "element_tag", None) == "img":
        return True
    return any(has_image(child) for child in getattr(box, "children", ()))


def test_it_renders_a_pdf(letter):
    assert render_letter_pdf(letter).startswith(b"%PDF-")


def test_every_page_is_a4(letter):
    letter.body = BODY + "\n" + PLAIN_RUN
    document = render_letter_document(letter)
    assert len(document.pages) > 1
    for page in document.pages:
        # CSS pixels: 96 per inch, 72 points per inch.
        assert page.width * 0.75 == pytest.approx(595.28, abs=1)
        assert page.height * 0.75 == pytest.approx(841.89, abs=1)


@needs_poppler
def test_the_pdf_opens_as_a4_with_the_title_and_first_sentence(letter, tmp_path):
    pdf = render_letter_pdf(letter)
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)

    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True)
    width, height = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info.stdout).groups()
    assert float(width) == pytest.approx(595, abs=1)
    assert float(height) == pytest.approx(842, abs=1)
    text = squeeze(pdf_text(pdf, tmp_path))
    assert TITLE in text
    assert FIRST_SENTENCE in text


@needs_poppler
def test_the_letter_carries_every_element_in_order(letter, tmp_path):
    text = squeeze(pdf_text(render_letter_pdf(letter), tmp_path))
    elements = [
        "B",
        "重庆市梁平区科学技术局",
        "梁平科技函〔2022〕45号",
        TITLE,
        "张华委员：",
        FIRST_SENTENCE,
        "一、创新工作机制，抓实企业服务",
        "此答复函已经区科技局主要领导审签。对以上答复有什么意见，请填写在答复函回执单上，"
        "以便进一步改进工作。",
        "重庆市梁平区科学技术局2022年7月20日",
        "（联系人：王明，联系电话：023-53221234）",
        "抄送：重庆市梁平区经济和信息化委员会。",
    ]
    positions = [text.find(element) for element in elements]
    assert -1 not in positions, dict(zip(elements, positions, strict=True))
    assert positions == sorted(positions)


@needs_poppler
def test_the_pdf_text_of_later_pages_carries_page_numbers(letter, tmp_path):
    letter.body = BODY + "\n" + PLAIN_RUN
    pdf = render_letter_pdf(letter)
    assert "—1—" not in squeeze(pdf_text(pdf, tmp_path, page=1))
    assert "—2—" in squeeze(pdf_text(pdf, tmp_path, page=2))


def test_the_first_page_has_no_page_number_and_later_pages_do(letter):
    letter.body = BODY + "\n" + PLAIN_RUN
    pages = render_letter_document(letter).pages
    assert len(pages) >= 3
    assert "— 1 —" not in page_text(pages[0])
    for number, page in enumerate(pages[1:], start=2):
        assert f"— {number} —" in page_text(page)


def test_the_qr_code_is_only_on_the_proposers_copy(letter, world):
    proposers = render_letter_document(letter, world.zhanghua_proposer, RECEIPT_URL).pages
    office = render_letter_document(letter).pages

    assert has_image(proposers[-1]._page_box)
    assert "扫码填写回执（张华）" in page_text(proposers[-1])
    assert not any(has_image(page._page_box) for page in office)
    assert "扫码填写回执" not in "".join(page_text(page) for page in office)


def test_the_qr_code_encodes_the_receipt_url(letter, world):
    html = render_letter_html(letter, world.zhanghua_proposer, RECEIPT_URL)
    assert 'src="data:image/svg+xml' in html
    assert RECEIPT_URL not in html  # only inside the QR code, never as printed text


def test_body_lines_hold_28_characters_and_pages_22_lines(letter):
    letter.body = PLAIN_RUN
    pages = render_letter_document(letter).pages
    first_page = body_lines(pages[0])
    # The body's first line is indented by two characters.
    start = first_page.index(PLAIN_RUN[:26])
    assert [len(line) for line in first_page[start + 1 : start + 4]] == [28, 28, 28]
    assert [len(line) for line in body_lines(pages[1])] == [28] * 22


def test_the_title_breaks_into_balanced_lines_at_sensible_places():
    assert title_lines(TITLE, "重庆市梁平区科学技术局") == [
        "重庆市梁平区科学技术局",
        "关于政协重庆市梁平区第十五届委员会",
        "第一次会议第069号提案的答复函",
    ]
    assert title_lines("关于第069号提案的答复函") == ["关于第069号提案的答复函"]


def test_title_lines_never_split_a_number_or_overflow():
    title = "重庆市梁平区科学技术局关于加快创建国家级高新区的建议（第1069号提案）的再次答复函"
    lines = title_lines(title)
    assert "".join(lines) == title
    assert all(len(line) <= TITLE_LINE_UNITS for line in lines)
    assert not any(line[-1].isdigit() and nxt[0].isdigit() for line, nxt in pairwise(lines))


def test_paragraphs_split_on_newlines_and_find_first_level_headings():
    body = (
        "你提出的建议收悉。\r\n\r\n一、创新工作机制，抓实企业服务\n一是拟出台方案。\n  \n二、十分长的段落"
        + ("内容" * 30)
    )
    assert letter_paragraphs(body) == [
        ("para", "你提出的建议收悉。"),
        ("heading", "一、创新工作机制，抓实企业服务"),
        ("para", "一是拟出台方案。"),
        ("para", "二、十分长的段落" + "内容" * 30),
    ]


def test_the_body_is_escaped_and_kept_exactly(letter):
    letter.body = '<b>加粗</b> & "引号" 一是<i>方案</i>。'
    html = render_letter_html(letter)
    assert "&lt;b&gt;加粗&lt;/b&gt; &amp; &quot;引号&quot;" in html
    assert "<b>" not in html and "<i>" not in html


def test_second_level_run_ins_are_set_apart(letter):
    html = render_letter_html(letter)
    assert '<span class="run-in">一是拟出台国家高新区方案。</span>' in html
    assert '<span class="run-in">二是深化“放管服”改革工作机制。</span>' in html
    assert '<p class="heading">一、创新工作机制，抓实企业服务</p>' in html


def test_rendering_reads_the_letter_in_three_queries(letter, django_assert_num_queries):
    fresh = ReplyLetter.objects.get(pk=letter.pk)
    # The assignment, its unit, the copied units.
    with django_assert_num_queries(3):
        render_letter_pdf(fresh)
