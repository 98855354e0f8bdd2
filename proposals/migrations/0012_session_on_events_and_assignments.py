import django.db.models.deletion
from django.db import migrations, models

# The proposal's session copied onto its audit events and assignments, for statistics: a
# session's latest event is the version of its figures, and a session's assignments are
# read without going through its proposals. Added empty, filled here, made required in 0012
# (a separate transaction: PostgreSQL refuses to alter a table with checks pending). And
# each assignment's first face-to-face contact with the proposer, from its contact records.
FILL = [
    "UPDATE proposals_event SET session_id = p.session_id "
    "FROM proposals_proposal p WHERE p.id = proposals_event.proposal_id",
    "UPDATE proposals_assignment SET session_id = p.session_id "
    "FROM proposals_proposal p WHERE p.id = proposals_assignment.proposal_id",
    "UPDATE proposals_assignment SET face_to_face_on = ("
    "SELECT MIN(c.contacted_on) FROM proposals_contactrecord c "
    "WHERE c.assignment_id = proposals_assignment.id "
    "AND c.method IN ('meeting', 'forum', 'visit'))",
]


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0011_search_created_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
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
            model_name="assignment",
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
            model_name="assignment",
            name="face_to_face_on",
            field=models.DateField(
                blank=True, editable=False, null=True, verbose_name="first met face to face on"
            ),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
    ]
