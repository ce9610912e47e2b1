"""The PDF export: an evidence pack that verify_evidence checks, and an
audit event citing the record version."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.actors import actor_system
from audit.models import AuditEvent
from connectors.models import Connector
from records.exports import record_export_pdf
from records.services import processing_record_update
from tests.evidence.pack_helpers import embedded, flat_text, rewrite_attachment

pytestmark = pytest.mark.django_db
SYSTEM = actor_system("tests")


def _verify(path: Path) -> tuple[str, str | None]:
    out = StringIO()
    try:
        call_command("verify_evidence", str(path), stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None


def test_the_pdf_verifies_and_cites_the_version(
    tmp_path: Path,
    manual_store: Callable[..., Connector],
    legacy_store: Callable[..., Connector],
) -> None:
    # given a record changed twice by the officer, and a store with gaps
    manual_store()
    legacy_store("bare")
    processing_record_update(actor=SYSTEM, controller_contact="privacy@example.com")
    processing_record_update(actor=SYSTEM, security_measures="TLS everywhere.")

    # when
    exported = record_export_pdf(actor=SYSTEM)
    path = tmp_path / exported.export.filename
    path.write_bytes(exported.content)

    # then verify_evidence accepts it
    output, error = _verify(path)
    assert error is None, output
    assert "records of processing, version 2" in output
    assert "2 audit event(s) present in the chain" in output
    # its facts are the record, and the pages show its parts and gaps
    facts = embedded(exported.content)["facts"]
    assert facts["record"]["version"] == 2
    assert facts["record"]["security_measures"] == "TLS everywhere."
    flat = flat_text(exported.content)
    assert "Version2" in flat
    assert "Answeringsupportrequests" in flat
    assert "noreasonrecordedwhynoneisdesignated" in flat
    # and the audit event records the file and cites the version
    event = AuditEvent.objects.get(action="evidence_pack.generated")
    assert event.object_type == "records.processingrecord"
    assert event.data["version"] == 2
    assert event.data["sha256"] == exported.export.sha256
    assert event.data["record_sha256"] == facts["record_sha256"]


def test_an_altered_pdf_does_not_verify(
    tmp_path: Path, manual_store: Callable[..., Connector]
) -> None:
    manual_store()
    exported = record_export_pdf(actor=SYSTEM)
    altered = rewrite_attachment(
        exported.content, lambda data: data.replace(b"billing", b"b1lling")
    )
    path = tmp_path / "altered.pdf"
    path.write_bytes(altered)

    output, error = _verify(path)

    assert error is not None
    assert "DIFFERS" in output


def test_an_empty_installation_exports_a_record_of_its_gaps(tmp_path: Path) -> None:
    exported = record_export_pdf(actor=SYSTEM)
    path = tmp_path / "empty.pdf"
    path.write_bytes(exported.content)

    output, error = _verify(path)

    assert error is None, output
    gaps = embedded(exported.content)["facts"]["record"]["gaps"]
    assert {g["kind"] for g in gaps} >= {"no_controller_contact", "no_dpo"}
