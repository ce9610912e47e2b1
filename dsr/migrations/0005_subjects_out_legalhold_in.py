# Issue 11, state only (no table is created, dropped or renamed):
# - DataSubject, SubjectIdentifier and its history moved to the subjects app
#   (subjects 0001 took them over, with their dsr table names); requests'
#   foreign keys follow them, and dsr forgets them.
# - LegalHold moves in from retention (retention 0002 let it go), keeping its
#   table retention_legalhold; its content type is renamed to dsr.

import django.db.models.deletion
import uuid
from django.db import migrations, models


def _move_content_type(apps, schema_editor, *, old: str, new: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    types = content_type.objects.using(schema_editor.connection.alias)
    if not types.filter(app_label=new, model="legalhold").exists():
        types.filter(app_label=old, model="legalhold").update(app_label=new)


def content_type_forwards(apps, schema_editor) -> None:
    _move_content_type(apps, schema_editor, old="retention", new="dsr")


def content_type_backwards(apps, schema_editor) -> None:
    _move_content_type(apps, schema_editor, old="dsr", new="retention")


class Migration(migrations.Migration):

    dependencies = [
        ('dsr', '0004_attempt_outcome_shared'),
        ('subjects', '0001_initial'),
        # Every foreign key to dsr.DataSubject must point at subjects first.
        ('consent', '0006_subject_moved_to_subjects'),
        ('retention', '0002_legalhold_moved_to_dsr'),
        ('connectors', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='historicalrequest',
                    name='subject',
                    field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='subjects.datasubject'),
                ),
                migrations.AlterField(
                    model_name='request',
                    name='subject',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='requests', to='subjects.datasubject'),
                ),
                migrations.DeleteModel(
                    name='HistoricalSubjectIdentifier',
                ),
                migrations.DeleteModel(
                    name='SubjectIdentifier',
                ),
                migrations.DeleteModel(
                    name='DataSubject',
                ),
                migrations.CreateModel(
                    name='LegalHold',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('table', models.CharField(blank=True, max_length=63)),
                        ('reason', models.TextField()),
                        ('legal_basis', models.CharField(max_length=200)),
                        ('starts_at', models.DateTimeField()),
                        ('ends_at', models.DateTimeField(blank=True, null=True)),
                        ('placed_by', models.CharField(max_length=100)),
                        ('placed_by_label', models.CharField(max_length=150)),
                        ('released_at', models.DateTimeField(blank=True, null=True)),
                        ('released_by', models.CharField(blank=True, max_length=100)),
                        ('released_by_label', models.CharField(blank=True, max_length=150)),
                        ('release_note', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('connector', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='legal_holds', to='connectors.connector')),
                        ('subject', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='legal_holds', to='subjects.datasubject')),
                    ],
                    options={
                        'db_table': 'retention_legalhold',
                        'ordering': ['-starts_at', '-pk'],
                        'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('connector__isnull', True), ('subject__isnull', False), ('table', '')), models.Q(('connector__isnull', False), ('subject__isnull', True)), _connector='OR'), name='legal_hold_one_scope')],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_type_forwards, content_type_backwards),
    ]
