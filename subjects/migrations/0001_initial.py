# DataSubject, SubjectIdentifier and the identifiers' history move here from
# dsr (issue 11) without touching the database: their tables keep the dsr
# names (db_table), so this migration changes Django's state only, and renames
# their content types so admin, history and generic references follow them.

import django.db.models.deletion
import privacydesk.fields
import simple_history.models
import uuid
from django.conf import settings
from django.db import migrations, models

MOVED = ("datasubject", "subjectidentifier", "historicalsubjectidentifier")


def _move_content_types(apps, schema_editor, *, old: str, new: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    types = content_type.objects.using(schema_editor.connection.alias)
    for model in MOVED:
        if not types.filter(app_label=new, model=model).exists():
            types.filter(app_label=old, model=model).update(app_label=new)


def content_types_forwards(apps, schema_editor) -> None:
    _move_content_types(apps, schema_editor, old="dsr", new="subjects")


def content_types_backwards(apps, schema_editor) -> None:
    _move_content_types(apps, schema_editor, old="subjects", new="dsr")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        # The tables were created by dsr's migrations.
        ('dsr', '0004_attempt_outcome_shared'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='DataSubject',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        'db_table': 'dsr_datasubject',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='HistoricalSubjectIdentifier',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('public_id', models.UUIDField(db_index=True, default=uuid.uuid4, editable=False)),
                        ('kind', models.CharField(choices=[('email', 'E-mail'), ('phone', 'Phone'), ('customer_id', 'Customer id')], max_length=20)),
                        ('namespace', models.CharField(blank=True, max_length=50)),
                        ('value', privacydesk.fields.EncryptedTextField()),
                        ('blind_index', models.CharField(max_length=64)),
                        ('created_at', models.DateTimeField(blank=True, editable=False)),
                        ('updated_at', models.DateTimeField(blank=True, editable=False)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('subject', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='subjects.datasubject')),
                    ],
                    options={
                        'verbose_name': 'historical subject identifier',
                        'verbose_name_plural': 'historical subject identifiers',
                        'db_table': 'dsr_historicalsubjectidentifier',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='SubjectIdentifier',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('kind', models.CharField(choices=[('email', 'E-mail'), ('phone', 'Phone'), ('customer_id', 'Customer id')], max_length=20)),
                        ('namespace', models.CharField(blank=True, max_length=50)),
                        ('value', privacydesk.fields.EncryptedTextField()),
                        ('blind_index', models.CharField(max_length=64)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('subject', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='identifiers', to='subjects.datasubject')),
                    ],
                    options={
                        'db_table': 'dsr_subjectidentifier',
                        'ordering': ['kind', 'created_at'],
                        'constraints': [models.UniqueConstraint(fields=('kind', 'namespace', 'blind_index'), name='unique_identifier')],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_forwards, content_types_backwards),
    ]
