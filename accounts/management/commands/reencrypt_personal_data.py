"""After a new key is put first in DJANGO_FIELD_ENCRYPTION_KEYS: encrypt every phone number
again with it, so that the old key can be taken out (README, "Personal data encrypted at
rest")."""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from accounts.models import Proposer, User
from core.fields import TOKEN_PREFIX, fernet


class Command(BaseCommand):
    help = "Re-encrypt the encrypted personal fields with the first key of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        keys = fernet()
        for model in (User, Proposer):
            table = connection.ops.quote_name(model._meta.db_table)
            done = 0
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SELECT id, phone FROM {table} WHERE phone <> ''")
                for pk, stored in cursor.fetchall():
                    if stored.startswith(TOKEN_PREFIX):
                        token = keys.rotate(stored.encode()).decode()
                    else:  # a row from before encryption
                        token = keys.encrypt(stored.encode()).decode()
                    cursor.execute(f"UPDATE {table} SET phone = %s WHERE id = %s", [token, pk])
                    done += 1
            self.stdout.write(f"{model._meta.label}: {done} phone numbers re-encrypted.")
