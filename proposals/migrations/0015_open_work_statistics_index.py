"""The open work of a session's statistics parts (unreplied, active, replying assignments):
what is overdue, counted again on a new day, read without the session's other assignments."""

from django.db import migrations, models
from django.db.models import F, Q


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0014_statistics_in_64_parts"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(
                F("session"),
                F("proposal") % 64,
                condition=Q(is_active=True, replied_at__isnull=True, role__in=["lead", "split"]),
                name="assignment_open_statistics",
            ),
        ),
    ]
