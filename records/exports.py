"""Exports of the records of processing, for a supervisory authority on
request (Art. 30(4)): a PDF evidence pack (the record's facts embedded as
JSON, its SHA-256 on the audit chain, checked by `verify_evidence`) and a
CSV. Each export is a row and an audit event citing the record's version
and the digest of its content."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.selectors import audit_chain_head
from audit.services import audit_record
from evidence.packs.render import evidence_pack_render
from evidence.services.pack_records import pack_file_saved, pack_generated_record
from records.choices import ExportFormat
from records.formatting import recipient_text, retention_text, transfer_text
from records.models import ProcessingRecord, RecordExport
from records.pack import TEMPLATE, records_pack_facts, records_pack_headers
from records.selectors.facts import ActivityEntry, Gap, Record
from records.selectors.record import (
    processing_record_current,
    record_build,
    record_digest,
)

# The same action as every evidence pack: verify_evidence finds the file's
# SHA-256 by it.
EXPORTED = "records.exported"
CSV_COLUMNS = (
    "record_version",
    "activity",
    "description",
    "legal_basis",
    "data_subject_categories",
    "data_categories",
    "stores",
    "recipients",
    "transfers_outside_eea",
    "retention",
    "controller",
    "controller_contact",
    "representative",
    "joint_controllers",
    "dpo",
    "security_measures",
    "gaps",
)
SEPARATOR = "; "


@dataclass(frozen=True)
class ExportedFile:
    export: RecordExport
    content: bytes


def _audit_object() -> ProcessingRecord:
    """The record's row as audit object (its id is the same saved or not)."""
    return processing_record_current()


def record_export_pdf(*, actor: Actor) -> ExportedFile:
    """Render the record as a PDF pack as of now, keep it, and write its
    SHA-256 to the audit chain."""
    actor.require(Perm.GOVERNANCE_VIEW)
    record = record_build()
    export_id = uuid.uuid4()
    generated_at = timezone.now()
    head = audit_chain_head()
    facts = records_pack_facts(
        record=record,
        head=head,
        pack_id=str(export_id),
        generated_at=generated_at,
        generated_by=actor.ref,
    )
    rendered = evidence_pack_render(
        facts=facts, template=TEMPLATE, headers=records_pack_headers(record)
    )
    with (
        pack_file_saved(f"records/{export_id}.pdf", rendered.content) as stored,
        transaction.atomic(),
    ):
        export = RecordExport.objects.create(
            public_id=export_id,
            format=ExportFormat.PDF,
            version=record.version,
            record_sha256=facts["record_sha256"],
            sha256=rendered.sha256,
            facts_sha256=rendered.facts_sha256,
            size=rendered.size,
            file=stored,
            generated_at=generated_at,
            generated_by=actor.ref,
        )
        pack_generated_record(
            actor=actor,
            obj=_audit_object(),
            pack_id=export_id,
            rendered=rendered,
            chain_head_sequence=head.sequence if head else 0,
            format=ExportFormat.PDF,
            version=record.version,
            record_sha256=facts["record_sha256"],
        )
    return ExportedFile(export=export, content=rendered.content)


def _cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return f"'{value}" if value[:1] in ("=", "+", "@", "\t", "\r") else value


def _joined(values: Iterable[str]) -> str:
    return SEPARATOR.join(value for value in values if value)


def _row(
    record: Record,
    *,
    activity: str,
    description: str = "",
    legal_basis: str = "",
    entry: ActivityEntry | None = None,
    stores: tuple[str, ...] = (),
    gaps: Iterable[Gap] = (),
) -> list[str]:
    controller = record.controller
    dpo = _joined([controller.dpo_name, controller.dpo_contact]) or (
        f"none designated: {controller.dpo_not_designated_reason}"
        if controller.dpo_not_designated_reason
        else ""
    )
    return [
        str(record.version),
        activity,
        description,
        legal_basis,
        _joined(entry.subject_categories) if entry else "",
        _joined(entry.data_categories) if entry else "",
        _joined(stores),
        _joined(recipient_text(r) for r in entry.recipients) if entry else "",
        _joined(transfer_text(t) for t in entry.transfers) if entry else "",
        _joined(retention_text(r) for r in entry.retention) if entry else "",
        _joined([controller.name, controller.address]),
        controller.contact,
        controller.representative,
        controller.joint_controllers,
        dpo,
        record.security_measures,
        _joined(f"{gap.subject or 'controller'}: {gap.message}" for gap in gaps),
    ]


def record_csv_bytes(record: Record) -> bytes:
    """One row per activity with every Art. 30(1) item (the controller's
    repeated, so each row stands alone), then one per store no purpose
    covers; a row's gaps include those of its stores and the controller's."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows: list[list[str]] = []
    controller_gaps = [gap for gap in record.gaps if gap.scope == "controller"]
    store_gaps = {store.name: store.gaps for store in record.data_map.stores}
    for entry in record.activities:
        gaps = [
            *controller_gaps,
            *entry.gaps,
            *(gap for store in entry.stores for gap in store_gaps.get(store, ())),
        ]
        rows.append(
            _row(
                record,
                activity=entry.name,
                description=entry.description,
                legal_basis=entry.legal_basis,
                entry=entry,
                stores=entry.stores,
                gaps=gaps,
            )
        )
    for store in record.data_map.stores:
        if not store.purposes:
            rows.append(
                _row(
                    record,
                    activity="",
                    stores=(store.name,),
                    gaps=[*controller_gaps, *store.gaps],
                )
            )
    writer.writerows([_cell(value) for value in row] for row in rows)
    return out.getvalue().encode("utf-8")


def record_export_csv(*, actor: Actor) -> ExportedFile:
    """The record as CSV, recorded and audited (not kept: the row holds its
    digest)."""
    actor.require(Perm.GOVERNANCE_VIEW)
    record = record_build()
    content = record_csv_bytes(record)
    digest = record_digest(record)
    with transaction.atomic():
        export = RecordExport.objects.create(
            format=ExportFormat.CSV,
            version=record.version,
            record_sha256=digest,
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
            generated_at=timezone.now(),
            generated_by=actor.ref,
        )
        audit_record(
            actor=actor,
            action=EXPORTED,
            obj=_audit_object(),
            data={
                "export": str(export.public_id),
                "format": ExportFormat.CSV,
                "version": record.version,
                "record_sha256": digest,
                "sha256": export.sha256,
                "size": export.size,
            },
        )
    return ExportedFile(export=export, content=content)
