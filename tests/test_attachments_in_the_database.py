"""DJANGO_ATTACHMENT_STORAGE=database: attachments live in PostgreSQL, readable from every
app server, committed or rolled back with the workflow step that uploaded them."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from core.models import StoredFile
from core.storage import DatabaseStorage
from core.workflow import Refused
from proposals import services
from proposals.models import CoOpinion

ROOT = Path(__file__).resolve().parent.parent
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n" + bytes(range(256))


@pytest.fixture(autouse=True)
def database_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # where nothing may appear
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "core.storage.DatabaseStorage"},
    }
    return tmp_path


def test_a_saved_file_can_be_opened_measured_found_and_deleted(db):
    storage = DatabaseStorage()
    name = storage.save("opinions/2022/意见.pdf", ContentFile(PDF))
    assert name == "opinions/2022/意见.pdf"
    assert storage.exists(name)
    assert storage.size(name) == len(PDF)
    with storage.open(name) as handle:
        assert handle.read() == PDF
    assert storage.get_modified_time(name) is not None
    storage.delete(name)
    assert not storage.exists(name)
    with pytest.raises(FileNotFoundError):
        storage.open(name)
    with pytest.raises(FileNotFoundError):
        storage.size(name)


def test_a_second_file_of_the_same_name_gets_a_name_of_its_own(db):
    storage = DatabaseStorage()
    first = storage.save("opinions/2022/意见.pdf", ContentFile(b"one"))
    second = storage.save("opinions/2022/意见.pdf", ContentFile(b"two"))
    assert first != second
    assert storage.open(first).read() == b"one"
    assert storage.open(second).read() == b"two"


def test_a_file_in_the_database_has_no_public_url_and_cannot_be_written_in_place(db):
    storage = DatabaseStorage()
    name = storage.save("opinions/2022/a.pdf", ContentFile(PDF))
    with pytest.raises(NotImplementedError):
        storage.url(name)
    with pytest.raises(ValueError):
        storage.open(name, "wb")


def test_the_setting_makes_it_the_default_storage(db):
    assert isinstance(storages["default"], DatabaseStorage)
    name = default_storage.save("opinions/2022/b.pdf", ContentFile(PDF))
    assert StoredFile.objects.filter(name=name).exists()


def test_an_upload_rolls_back_with_its_transaction(world):
    with pytest.raises(RuntimeError), transaction.atomic():
        opinion = CoOpinion.objects.create(assignment=world.co, title="t", body="b")
        opinion.attachment.save("意见.pdf", ContentFile(PDF), save=True)
        assert StoredFile.objects.count() == 1
        raise RuntimeError("the step fails after the upload")
    assert not StoredFile.objects.exists()


def test_a_refused_workflow_step_leaves_no_stored_file(world, database_storage):
    upload = SimpleUploadedFile("意见.pdf", PDF)
    with pytest.raises(Refused):
        services.send_opinion(world.co, world.outsider, title="t", body="b", attachment=upload)
    assert not StoredFile.objects.exists()
    assert not any(database_storage.rglob("*"))


def test_an_opinion_uploaded_through_the_form_is_downloaded_from_the_database(
    client, world, database_storage
):
    client.force_login(world.jxw)
    response = client.post(
        reverse("proposals:opinion", args=[world.co.pk]),
        {
            "title": "重庆市梁平区经济和信息化委员会关于第069号提案的会办意见",
            "body": "一、支持创建国家级高新区。",
            "attachment": SimpleUploadedFile("会办意见.pdf", PDF),
        },
    )
    assert response.status_code == 302
    opinion = CoOpinion.objects.get(assignment=world.co)
    stored = StoredFile.objects.get(name=opinion.attachment.name)
    assert bytes(stored.content) == PDF
    assert stored.size == len(PDF)
    assert not any(database_storage.rglob("*"))  # nothing on this server's disk

    client.force_login(world.kjj)  # the lead unit reads the co-unit's opinion
    download = client.get(reverse("proposals:opinion_attachment", args=[opinion.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF

    client.force_login(world.outsider)
    download = client.get(reverse("proposals:opinion_attachment", args=[opinion.pk]))
    assert download.status_code == 404


def test_an_attachment_missing_from_the_database_is_404_not_500(client, world):
    services.send_opinion(
        world.co, world.jxw, title="t", body="b", attachment=SimpleUploadedFile("a.pdf", PDF)
    )
    StoredFile.objects.all().delete()
    client.force_login(world.kjj)
    opinion = CoOpinion.objects.get(assignment=world.co)
    response = client.get(reverse("proposals:opinion_attachment", args=[opinion.pk]))
    assert response.status_code == 404


def test_an_unknown_attachment_storage_stops_the_start():
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    clean.update(
        {
            "DJANGO_SECRET_KEY": "x" * 50,
            "DJANGO_ATTACHMENT_STORAGE": "s3",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "DJANGO_ATTACHMENT_STORAGE" in result.stderr


def test_files_on_the_disk_are_copied_in_under_their_names_once(db, database_storage):
    (database_storage / "opinions" / "2022").mkdir(parents=True)
    (database_storage / "opinions" / "2022" / "意见.pdf").write_bytes(PDF)
    out = StringIO()
    call_command("copy_files_to_database", stdout=out)
    assert "1 files copied, 0 already" in out.getvalue()
    with DatabaseStorage().open("opinions/2022/意见.pdf") as handle:
        assert handle.read() == PDF
    call_command("copy_files_to_database", stdout=out)
    assert "0 files copied, 1 already" in out.getvalue()
