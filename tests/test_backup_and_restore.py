"""`manage.py backup` / `restore` (core/backup.py): the demo backed up, wiped and restored,
every row of every table and every file identical; a changed backup refused.

The round trip runs on the database the suite runs on: PostgreSQL in CI (pg_dump and
pg_restore, the production path), SQLite's online backup API otherwise.
"""

import json
import os
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from core import backup
from proposals.models import CoOpinion, Proposal


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "private")
    Path(settings.MEDIA_ROOT).mkdir()
    return Path(settings.MEDIA_ROOT)


def load_demo():
    with override_settings(DEBUG=True):
        call_command("load_demo", stdout=StringIO())


def add_attachments():
    """Files under the private media, one of them an opinion's attachment."""
    opinion = CoOpinion.objects.order_by("pk").first()
    name = default_storage.save("opinions/2022/会办意见.pdf", ContentFile(os.urandom(50_000)))
    CoOpinion.objects.filter(pk=opinion.pk).update(attachment=name)
    default_storage.save("opinions/2023/说明.txt", ContentFile("第069号提案会办意见\n".encode()))
    return name


def the_record(media):
    return backup.table_checksums(), backup.file_checksums(media)


def wipe(media):
    call_command("flush", "--noinput", stdout=StringIO())
    shutil.rmtree(media)
    media.mkdir()


def backup_into(directory, *args):
    out = StringIO()
    call_command("backup", "--output", str(directory), *args, stdout=out)
    return Path(out.getvalue().strip().removeprefix("Backup written to "))


@pytest.mark.django_db(transaction=True)
def test_the_demo_backed_up_wiped_and_restored_is_identical(media, tmp_path):
    if connection.vendor == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("PostgreSQL's client programs (pg_dump, pg_restore, psql) are not installed")
    load_demo()
    attachment = add_attachments()
    before_tables, before_files = the_record(media)
    assert before_tables["tables"]["proposals_proposal"]["rows"] >= 20
    assert len(before_files) == 2

    directory = backup_into(tmp_path / "nightly")
    archive = backup_into(tmp_path / "archives", "--archive")
    assert archive.suffix == ".tar" and oct(archive.stat().st_mode & 0o777) == "0o600"
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["database"]["vendor"] == connection.vendor
    # The manifest's per-table checksums are the database's at the time of the backup.
    assert manifest["database"]["tables"] == before_tables["tables"]
    assert manifest["database"]["sequences"] == before_tables["sequences"]
    assert f"media/{attachment}" in manifest["files"]

    wipe(media)
    assert backup.table_checksums() != before_tables
    assert not Proposal.objects.exists() and backup.file_checksums(media) == {}

    # Not empty (the tables are there): refused without --yes, nothing done.
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(archive), stdout=StringIO())
    assert not Proposal.objects.exists()

    out = StringIO()
    call_command("restore", str(archive), "--yes", stdout=out)
    assert "each identical to the backup" in out.getvalue()

    after_tables, after_files = the_record(media)
    assert backup.differences(before_tables, after_tables) == []
    assert after_tables == before_tables
    assert after_files == before_files
    # And the application reads it: proposal 069, its opinion's attachment.
    assert Proposal.objects.filter(number=69).exists()
    opinion = CoOpinion.objects.get(attachment=attachment)
    with opinion.attachment.open("rb") as f:
        assert len(f.read()) == 50_000


@pytest.mark.django_db(transaction=True)
def test_a_changed_backup_is_refused_and_nothing_is_touched(media, tmp_path, django_user_model):
    if connection.vendor == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("PostgreSQL's client programs (pg_dump, pg_restore, psql) are not installed")
    django_user_model.objects.create(username="before")
    (media / "a.txt").write_text("原件")
    directory = backup_into(tmp_path / "b")
    django_user_model.objects.create(username="after")
    record = the_record(media)

    changed = directory / "media" / "a.txt"
    changed.write_text("改件")
    with pytest.raises(CommandError, match="a.txt does not match its checksum"):
        call_command("restore", str(directory), "--yes", stdout=StringIO())
    changed.write_text("原件")
    (directory / "media" / "planted.txt").write_text("x")
    with pytest.raises(CommandError, match="planted.txt is not in the manifest"):
        call_command("restore", str(directory), "--yes", stdout=StringIO())
    (directory / "media" / "planted.txt").unlink()
    (directory / backup.MANIFEST).write_text(
        (directory / backup.MANIFEST).read_text().replace('"rows": 1', '"rows": 2')
    )
    with pytest.raises(CommandError, match="manifest.json does not match"):
        call_command("restore", str(directory), "--yes", stdout=StringIO())
    assert the_record(media) == record
    assert set(django_user_model.objects.values_list("username", flat=True)) == {"before", "after"}


def test_no_manifest_no_restore(tmp_path, db):
    (tmp_path / "x").mkdir()
    with pytest.raises(CommandError, match="no manifest.json"):
        call_command("restore", str(tmp_path / "x"), "--yes", stdout=StringIO())
    with pytest.raises(CommandError, match="neither a backup directory"):
        call_command("restore", str(tmp_path / "missing"), stdout=StringIO())


def test_keep_leaves_the_newest_backups(tmp_path):
    names = [f"tian-backup-202612{day:02d}-023000" for day in range(1, 36)]
    for name in names[:-1]:
        (tmp_path / name).mkdir()
    (tmp_path / (names[-1] + ".tar")).write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a backup")
    (tmp_path / ".tian-backup-20261236-023000.partial").mkdir()
    deleted = backup.prune(tmp_path, 30)
    assert [p.name for p in deleted] == names[:5]
    assert [p.name for p in backup.backups_in(tmp_path)] == names[5:-1] + [names[-1] + ".tar"]
    assert (tmp_path / "notes.txt").exists()


def test_a_backup_is_never_written_into_the_media_it_copies(media, db):
    with pytest.raises(CommandError, match="inside MEDIA_ROOT"):
        call_command("backup", "--output", str(media / "backups"), stdout=StringIO())
