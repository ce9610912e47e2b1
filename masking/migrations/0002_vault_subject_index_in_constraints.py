# The foreign key's own index goes: both unique constraints lead with
# subject_id and serve its lookups. Only the index is dropped (Django's
# AlterField would also drop and re-add the foreign key, re-checking every
# row of the vault under a lock).

import django.db.models.deletion
from django.db import migrations, models

INDEX = "masking_vaultentry_subject_id_37581d16"  # Django's name for it


class Migration(migrations.Migration):
    dependencies = [
        ("masking", "0001_initial"),
        ("subjects", "0002_subject_conversation"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="vaultentry",
                    name="subject",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="vault_entries",
                        to="subjects.datasubject",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {INDEX}",
                    reverse_sql=f"CREATE INDEX {INDEX} ON masking_vaultentry (subject_id)",
                ),
            ],
        ),
    ]
