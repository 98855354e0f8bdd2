"""Statistics kept in 64 parts of a session instead of 32 (STATISTICS_PARTS): the index that
reads some parts of a session's assignments has the number in its expression."""

from django.db import migrations, models
from django.db.models import F


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0013_session_on_events_and_assignments_required"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="assignment", name="assignment_statistics"),
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(F("session"), F("proposal") % 64, name="assignment_statistics"),
        ),
    ]
