import django.db.models.deletion
from django.db import migrations, models

# The proposal's session copied onto reply letters and receipts, for statistics (as for
# assignments in proposals 0011): added empty, filled here, made required in 0010.
FILL = [
    "UPDATE replies_replyletter SET session_id = a.session_id "
    "FROM proposals_assignment a WHERE a.id = replies_replyletter.assignment_id",
    "UPDATE replies_receipt SET session_id = l.session_id "
    "FROM replies_replyletter l WHERE l.id = replies_receipt.letter_id",
]


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0013_session_on_events_and_assignments_required"),
        ("replies", "0008_search"),
    ]

    operations = [
        migrations.AddField(
            model_name="replyletter",
            name="session",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="proposals.session",
                verbose_name="session",
            ),
        ),
        migrations.AddField(
            model_name="receipt",
            name="session",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="proposals.session",
                verbose_name="session",
            ),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
    ]
