"""The public reply page offers its PDF (the public version) and a QR code of its address."""

import re
import shutil
import subprocess
from io import StringIO

import pytest
import segno
from django.core.cache import cache
from django.core.management import call_command

from accounts.models import User
from demo.seed import SUMMARY_047
from replies import services
from replies.models import Receipt, ReplyLetter

needs_poppler = pytest.mark.skipif(
    not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) is not installed"
)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()


@pytest.fixture
def demo(db):
    call_command("load_demo", "--force", stdout=StringIO())


def letter_of(number):
    return ReplyLetter.objects.get(assignment__proposal__number=number)


@pytest.fixture
def letter(demo):
    letter = letter_of(69)
    ReplyLetter.objects.filter(pk=letter.pk).update(
        contact_person="王明", contact_phone="023-53221234"
    )
    return letter


@pytest.fixture
def tiwei(demo):
    return User.objects.get(username="tiwei")


def pdf_text(pdf, tmp_path):
    path = tmp_path / "reply.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return re.sub(r"\s+", "", result.stdout.decode())


def test_the_reply_page_links_its_pdf_and_shows_a_qr_code_of_itself(client, letter, settings):
    html = client.get(f"/replies/{letter.pk}/").content.decode()
    assert f'href="/replies/{letter.pk}/pdf/"' in html
    assert "扫一扫在手机打开当前页" in html
    # The QR code is inline SVG encoding the page's absolute address.
    url = settings.SITE_URL.rstrip("/") + f"/replies/{letter.pk}/"
    expected = segno.make(url, error="m").svg_inline(scale=4, border=2, svgclass="qr-code")
    path = re.search(r' d="([^"]+)"', expected).group(1)
    assert path in html
    assert 'role="img" aria-label="扫一扫在手机打开当前页"' in html


@needs_poppler
def test_the_public_pdf_has_the_letter_and_nothing_personal(client, letter, tmp_path):
    response = client.get(f"/replies/{letter.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content, tmp_path)
    assert "国家级高新区" in text
    assert "张华委员：" in text
    assert "重庆市梁平区科学技术局" in text
    for private in ("023-53221234", "王明", "联系电话", "联系人", "扫码填写回执"):
        assert private not in text
    # The staff copy of the same letter has them: the public version is what differs.
    staff = ReplyLetter.objects.get(pk=letter.pk)
    from replies.pdf import render_letter_pdf

    assert "023-53221234" in pdf_text(render_letter_pdf(staff), tmp_path)


def test_the_public_pdf_carries_no_qr_image_even_for_a_letter_with_receipts(client, letter):
    assert Receipt.objects.filter(letter=letter).exists()
    content = client.get(f"/replies/{letter.pk}/pdf/").content
    assert b"/Subtype /Image" not in content and b"/Subtype/Image" not in content


@needs_poppler
def test_a_summary_letter_prints_its_summary_not_its_body(client, demo, tmp_path):
    letter = letter_of(47)
    text = pdf_text(client.get(f"/replies/{letter.pk}/pdf/").content, tmp_path)
    assert re.sub(r"\s+", "", SUMMARY_047)[:30] in text
    assert "屋面漏水" in letter.body
    assert "屋面漏水" not in text


def test_the_pdf_answers_304_until_the_reply_is_corrected(client, letter, tiwei, tmp_path):
    url = f"/replies/{letter.pk}/pdf/"
    first = client.get(url)
    assert first.has_header("ETag")
    assert first["Content-Disposition"].startswith("inline")
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    # Served again from the public page cache: same ETag and disposition.
    cached = client.get(url)
    assert cached["ETag"] == first["ETag"]
    assert cached["Content-Disposition"] == first["Content-Disposition"]
    services.correct_typo(letter, tiwei, "更正笔误", text=letter.body.replace("创建", "创设", 1))
    corrected = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert corrected.status_code == 200
    assert corrected["ETag"] != first["ETag"]
    if shutil.which("pdftotext"):
        assert "创设" in pdf_text(corrected.content, tmp_path)


def test_the_pdf_is_gone_when_the_reply_is_taken_off_the_site(client, letter, tiwei):
    url = f"/replies/{letter.pk}/pdf/"
    assert client.get(url).status_code == 200
    services.unpublish(letter, tiwei, "数据待核实")
    assert client.get(url).status_code == 404


def test_no_pdf_for_a_letter_that_is_not_disclosed(client, letter):
    ReplyLetter.objects.filter(pk=letter.pk).update(disclosure=ReplyLetter.Disclosure.NONE)
    assert client.get(f"/replies/{letter.pk}/pdf/").status_code == 404


def test_a_query_string_does_not_render_the_pdf_again(client, letter, monkeypatch):
    from replies.views import public

    rendered = []
    real = public.render_public_pdf
    monkeypatch.setattr(public, "render_public_pdf", lambda *a: rendered.append(1) or real(*a))
    for i in range(3):
        assert client.get(f"/replies/{letter.pk}/pdf/?x={i}").status_code == 200
    assert len(rendered) == 1
