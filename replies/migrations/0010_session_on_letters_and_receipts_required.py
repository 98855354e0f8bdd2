import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("replies", "0009_session_on_letters_and_receipts"),
    ]

    operations = [
        migrations.AlterField(
            model_name="replyletter",
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
            model_name="receipt",
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
            model_name="replyletter",
            index=models.Index(
                condition=models.Q(("sent_at__isnull", False)),
                fields=["session"],
                include=("id", "assignment", "round", "result_class"),
                name="letter_session_statistics",
            ),
        ),
        migrations.AddIndex(
            model_name="receipt",
            index=models.Index(fields=["session"], name="receipt_session"),
        ),
    ]
