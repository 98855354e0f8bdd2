"""Members' and proposers' phone numbers: encrypted at rest, whole for who calls them, masked
for everyone else."""

import importlib

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from accounts.models import Proposer, SecurityEvent, User
from core.fields import mask_phone

NUMBER = "13900000069"  # 张华's, in the world


def stored(model, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT phone FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_the_database_holds_a_token_not_the_number(world):
    raw = stored(Proposer, world.zhanghua_proposer.pk)
    assert NUMBER not in raw and raw.startswith("gAAAAA")
    assert Proposer.objects.get(pk=world.zhanghua_proposer.pk).phone == NUMBER
    world.kjj.phone = "13800000001"
    world.kjj.save()
    assert "13800000001" not in stored(User, world.kjj.pk)
    assert User.objects.values_list("phone", flat=True).get(pk=world.kjj.pk) == "13800000001"
    # Equal numbers do not look equal (random IV), and a blank stays blank.
    other = Proposer.objects.create(name="同号", phone=NUMBER)
    assert stored(Proposer, other.pk) != raw
    assert stored(User, world.tiwei.pk) == ""


def test_masking():
    assert mask_phone("13900000058") == "139****0058"
    assert mask_phone("023-53221234") == "023****1234"
    assert mask_phone("12345") == "****"
    assert mask_phone("") == ""


def test_rows_from_before_encryption_are_read_and_then_encrypted(world):
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Proposer._meta.db_table} SET phone = %s WHERE id = %s",
            [NUMBER, world.zhanghua_proposer.pk],
        )
    assert Proposer.objects.get(pk=world.zhanghua_proposer.pk).phone == NUMBER
    migration = importlib.import_module("accounts.migrations.0006_security_record")
    migration.encrypt_phones(apps, None)
    assert stored(Proposer, world.zhanghua_proposer.pk).startswith("gAAAAA")
    assert Proposer.objects.get(pk=world.zhanghua_proposer.pk).phone == NUMBER


def test_a_new_key_reads_the_old_rows_and_reencrypts_them(world, settings):
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    assert Proposer.objects.get(pk=world.zhanghua_proposer.pk).phone == NUMBER
    call_command("reencrypt_personal_data")
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert Proposer.objects.get(pk=world.zhanghua_proposer.pk).phone == NUMBER
    assert User.objects.get(pk=world.kjj.pk).phone == ""


# The SMS to a proposer reads the decrypted number: tests/test_receipt_services.py asserts
# the outbox holds 13900000069.


@pytest.mark.parametrize(
    ("who", "whole"),
    [("tiwei", True), ("kjj", True), ("jxw", True), ("zhanghua", False)],
)
def test_the_proposal_page_shows_the_number_whole_only_to_who_calls(client, world, who, whole):
    client.force_login(getattr(world, who))
    page = client.get(reverse("proposals:detail", args=[world.proposal.pk])).content.decode()
    assert (NUMBER in page) is whole
    assert ("139****0069" in page) is not whole


def test_the_admin_lists_show_numbers_masked_and_the_change_page_is_recorded(client, world):
    admin_client = client
    admin_client.force_login(world.admin)
    page = admin_client.get(reverse("admin:accounts_proposer_changelist")).content.decode()
    assert NUMBER not in page and "139****0069" in page
    page = admin_client.get(
        reverse("admin:accounts_proposer_change", args=[world.zhanghua_proposer.pk])
    ).content.decode()
    assert NUMBER in page
    assert SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.PERSONAL_DATA_VIEWED, object_id=str(world.zhanghua_proposer.pk)
    ).exists()
