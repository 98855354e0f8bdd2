"""Committee staff make the demo session's compendium, watch it being made, and download it
with its table of contents."""

import re
import shutil
import subprocess

import pytest
from django.core.management import call_command

from .conftest import log_in


@pytest.fixture
def demo(transactional_db, settings):
    settings.COMPENDIUM_IN_THREAD = True  # as on a server: made in a background thread
    call_command("load_demo", "--force", verbosity=0)


def test_the_compendium_downloads_for_the_demo_session(demo, live_server, page, tmp_path):
    log_in(page, live_server, "tiwei")
    page.goto(f"{live_server.url}/work/compendium/")
    assert "第十五届委员会第一次会议" in page.locator("#compendium h2").inner_text()
    page.click("#compendium form button[type=submit]")
    # The page follows the progress and shows the download link when the book is ready.
    link = page.locator("#compendium-download")
    link.wait_for(timeout=120_000)
    with page.expect_download() as info:
        link.click()
    path = tmp_path / "book.pdf"
    info.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF-")
    assert info.value.suggested_filename.endswith("提案及办理答复汇编.pdf")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-f", "2", "-l", "2", str(path), "-"], capture_output=True, check=True
        ).stdout.decode()
        assert re.search(r"目\s*录", text)
        assert "第069号" in text
