# DataSubject moved from dsr to subjects (issue 11), same table: the foreign
# keys follow it in Django's state only; the database is unchanged.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('consent', '0005_attempt_outcome_shared'),
        ('subjects', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='consentevent',
                    name='subject',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='consent_events', to='subjects.datasubject'),
                ),
                migrations.AlterField(
                    model_name='consentstate',
                    name='subject',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='consent_states', to='subjects.datasubject'),
                ),
                migrations.AlterField(
                    model_name='erasureassessment',
                    name='subject',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='subjects.datasubject'),
                ),
            ],
        ),
    ]
