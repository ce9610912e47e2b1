"""The access package moved from evidence to dsr without touching its table:
rows stay, and the content type (with its permissions) follows the model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("dsr", "0006_requesttask_erasure_receipt"),
    ("evidence", "0003_access_package_letter_pdf"),
]
AFTER = [
    ("dsr", "0007_access_package_moves_to_dsr"),
    ("evidence", "0004_access_package_moves_to_dsr"),
]


def _migrate(targets: list[tuple[str, str]]) -> Any:
    """Migrate dsr and evidence to `targets`; the models as they are then
    (every other app at its latest)."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    moved = {app for app, _ in targets}
    others = [n for n in executor.loader.graph.leaf_nodes() if n[0] not in moved]
    return executor.loader.project_state([*others, *targets]).apps


def _latest() -> None:
    """Every app back at its latest migration (later migrations of dsr or
    evidence included), as the rest of the suite expects."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_move_keeps_rows_and_moves_the_content_type() -> None:
    # given the evidence app owning the package, with a row and its
    # content type (and a permission on it)
    old = _migrate(BEFORE)
    try:
        content_types = old.get_model("contenttypes", "ContentType")
        permissions = old.get_model("auth", "Permission")
        content_types.objects.filter(model="accesspackage").delete()
        evidence_type = content_types.objects.create(
            app_label="evidence", model="accesspackage"
        )
        permissions.objects.create(
            content_type=evidence_type,
            codename="view_accesspackage_test",
            name="Can view access package",
        )
        subject = old.get_model("subjects", "DataSubject").objects.create()
        request = old.get_model("dsr", "Request").objects.create(
            reference="DSR-2026-000001",
            subject=subject,
            kind="access",
            regime="gdpr",
            channel="api",
            identity={"email": "ada@example.com"},
            received_at=datetime(2026, 1, 5, tzinfo=UTC),
            clock_start_on="2026-01-05",
            due_on="2026-02-05",
            standard_due_on="2026-02-05",
            extension_notice_by="2026-02-05",
            created_by="tests",
        )
        old.get_model("evidence", "AccessPackage").objects.create(
            request=request,
            kind="access",
            file="access-packages/x.zip",
            size=10,
            sha256="a" * 64,
            expires_at=datetime(2026, 3, 1, tzinfo=UTC),
        )

        # when the move runs
        new = _migrate(AFTER)

        # then the row is dsr's, and so is the content type with its permission
        package = new.get_model("dsr", "AccessPackage").objects.get()
        assert package.request.reference == "DSR-2026-000001"
        assert package._meta.db_table == "evidence_accesspackage"
        moved = new.get_model("contenttypes", "ContentType").objects.get(
            model="accesspackage"
        )
        assert moved.app_label == "dsr"
        assert moved.pk == evidence_type.pk
        assert (
            new.get_model("auth", "Permission")
            .objects.get(codename="view_accesspackage_test")
            .content_type_id
            == moved.pk
        )

        # and going back gives the content type back to evidence
        _migrate(BEFORE)
        back = old.get_model("contenttypes", "ContentType").objects.get(
            model="accesspackage"
        )
        assert back.app_label == "evidence"
    finally:
        _latest()
