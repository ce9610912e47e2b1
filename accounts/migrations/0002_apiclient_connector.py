import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("connectors", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="apiclient",
            name="connector",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="agent_clients",
                to="connectors.connector",
            ),
        ),
    ]
