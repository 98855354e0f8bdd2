import django.db.models.deletion
from django.db import migrations, models
from django.db.models import F


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0012_session_on_events_and_assignments"),
    ]

    operations = [
        migrations.AlterField(
            model_name="event",
            name="session",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="proposals.session",
                verbose_name="session",
            ),
        ),
        migrations.AlterField(
            model_name="assignment",
            name="session",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="proposals.session",
                verbose_name="session",
            ),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                fields=["session", "id"], include=("created_at",), name="event_session_latest"
            ),
        ),
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(
                F("session"),
                F("proposal") % 32,
                name="assignment_statistics",
            ),
        ),
    ]
