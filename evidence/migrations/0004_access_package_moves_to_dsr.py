"""The access package now belongs to dsr (dsr 0005 took over its state and
content type); evidence forgets it. The table stays, as dsr's."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0003_access_package_letter_pdf"),
        ("dsr", "0007_access_package_moves_to_dsr"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AccessPackage")],
            database_operations=[],
        ),
    ]
