from django.db import migrations, models
from django.db.models import OuterRef, Subquery


# The proposal's creation time in its search entry, so that the staff search orders its
# matches in the narrow table (proposals/search.py: Ranked). Written by every reindex from
# now on; here once for the entries there are (at 100,000 proposals: about 30 s on
# PostgreSQL, which recomputes the generated tsvector columns of every row it updates).
def fill(apps, schema_editor):
    Proposal = apps.get_model("proposals", "Proposal")
    ProposalSearch = apps.get_model("proposals", "ProposalSearch")
    created = Proposal.objects.filter(pk=OuterRef("proposal_id")).values("created_at")[:1]
    ProposalSearch.objects.update(created_at=Subquery(created))


class Migration(migrations.Migration):

    dependencies = [
        ("proposals", "0010_search"),
    ]

    operations = [
        migrations.AddField(
            model_name="proposalsearch",
            name="created_at",
            field=models.DateTimeField(null=True, verbose_name="created at"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="proposalsearch",
            name="created_at",
            field=models.DateTimeField(verbose_name="created at"),
        ),
    ]
