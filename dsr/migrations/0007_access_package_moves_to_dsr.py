"""The access package moves from the evidence app to dsr (the request
lifecycle owns it). Only Django's state changes: the table keeps its name
(evidence_accesspackage) and its rows; the content type follows the model,
so its permissions and any generic reference keep pointing at it."""

import uuid
from typing import Any

import django.db.models.deletion
from django.db import migrations, models

APP_BEFORE, APP_AFTER, MODEL = "evidence", "dsr", "accesspackage"


def content_type_to_dsr(apps: Any, schema_editor: Any) -> None:
    _content_type_move(apps, APP_BEFORE, APP_AFTER)


def content_type_to_evidence(apps: Any, schema_editor: Any) -> None:
    _content_type_move(apps, APP_AFTER, APP_BEFORE)


def _content_type_move(apps: Any, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    moving = ContentType.objects.filter(app_label=source, model=MODEL)
    if ContentType.objects.filter(app_label=target, model=MODEL).exists():
        # Made meanwhile (a migrate that stopped half-way): keep the one that
        # existed before, which permissions point at, and drop the new one.
        if moving.exists():
            ContentType.objects.filter(app_label=target, model=MODEL).delete()
        else:
            return
    moving.update(app_label=target)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("dsr", "0006_requesttask_erasure_receipt"),
        ("evidence", "0003_access_package_letter_pdf"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AccessPackage",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "public_id",
                            models.UUIDField(
                                default=uuid.uuid4, editable=False, unique=True
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("access", "Access (GDPR Art. 15)"),
                                    ("portability", "Portability (GDPR Art. 20)"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("file", models.CharField(blank=True, max_length=300)),
                        ("size", models.PositiveBigIntegerField()),
                        ("sha256", models.CharField(max_length=64)),
                        ("contents", models.JSONField(default=list)),
                        ("record_count", models.PositiveIntegerField(default=0)),
                        ("letter_file", models.CharField(blank=True, max_length=300)),
                        ("letter_sha256", models.CharField(blank=True, max_length=64)),
                        ("expires_at", models.DateTimeField()),
                        ("purged_at", models.DateTimeField(blank=True, null=True)),
                        ("download_count", models.PositiveIntegerField(default=0)),
                        (
                            "last_downloaded_at",
                            models.DateTimeField(blank=True, null=True),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "request",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="access_package",
                                to="dsr.request",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "evidence_accesspackage",
                        "ordering": ["-created_at"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_dsr, content_type_to_evidence),
    ]
