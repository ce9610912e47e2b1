"""The records of processing (GDPR Art. 30(1)), assembled from the data map,
the consent purposes and the officer's part: one entry per processing
activity (purpose) with (b)-(f), the controller (a) and the security
measures (g). A gap is shown where something is not configured; nothing is
invented to fill it."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings

from accounts.actors import Actor
from accounts.permissions import Perm
from consent.models import Purpose
from evidence.packs.canonical import canonical_bytes
from records.choices import GapKind, GapScope, role_label
from records.countries import is_transfer
from records.models import Activity, ProcessingRecord, Recipient
from records.selectors.datamap import (
    data_map_build,
    legal_basis_label,
    purpose_key,
    text_key,
)
from records.selectors.facts import (
    ActivityEntry,
    ControllerFacts,
    DataMap,
    Gap,
    RecipientFact,
    Record,
    RetentionRule,
    TransferFact,
)

SOURCE_CONSENT = "consent purpose"
SOURCE_OFFICER = "officer"


def processing_record_current() -> ProcessingRecord:
    """The officer's part; an unsaved blank one (version 0) until first saved."""
    return ProcessingRecord.objects.filter(pk=1).first() or ProcessingRecord(pk=1)


@dataclass
class _Builder:
    key: str
    name: str
    description: str = ""
    legal_basis: str = ""
    sources: list[str] = field(default_factory=list)
    stores: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    subject_categories: list[str] = field(default_factory=list)
    recipients: list[RecipientFact] = field(default_factory=list)
    transfers: list[TransferFact] = field(default_factory=list)
    retention: list[RetentionRule] = field(default_factory=list)
    activity: Activity | None = None

    def add(self, items: list[Any], new: Any) -> None:
        for item in new:
            if item not in items:
                items.append(item)

    def source(self, text: str) -> None:
        self.add(self.sources, [text])


def _recipient_fact(recipient: Recipient) -> RecipientFact:
    return RecipientFact(
        name=recipient.name,
        role=recipient.role,
        role_label=role_label(recipient.role),
        country=recipient.country,
        source=SOURCE_OFFICER,
        description=recipient.description,
    )


def _officer_transfer(recipient: Recipient) -> TransferFact | None:
    if not is_transfer(recipient.country):
        return None
    return TransferFact(
        country=recipient.country,
        recipient=recipient.name,
        safeguards=recipient.safeguards.strip(),
        source=SOURCE_OFFICER,
    )


def _builders(data_map: DataMap, record: ProcessingRecord) -> dict[str, _Builder]:
    builders: dict[str, _Builder] = {}
    for purpose in Purpose.objects.order_by("slug"):
        builders[purpose_key(purpose)] = _Builder(
            key=purpose_key(purpose),
            name=purpose.name,
            description=purpose.description,
            legal_basis=legal_basis_label(purpose),
            sources=[SOURCE_CONSENT],
        )
    for store in data_map.stores:
        for stated in store.purposes:
            builder = builders.setdefault(
                stated.key,
                _Builder(key=stated.key, name=stated.name),
            )
            builder.legal_basis = builder.legal_basis or stated.legal_basis
            builder.source(stated.source)
            builder.add(builder.stores, [store.name])
            builder.add(builder.categories, store.categories)
            builder.add(builder.recipients, store.recipients)
            builder.add(builder.transfers, store.transfers)
            builder.add(builder.retention, store.retention)
    for activity in Activity.objects.select_related("purpose"):
        if activity.purpose is not None:
            key = purpose_key(activity.purpose)
            name = activity.purpose.name
        else:
            key, name = text_key(activity.name), activity.name
        builder = builders.setdefault(key, _Builder(key=key, name=name))
        builder.activity = activity
        builder.source(SOURCE_OFFICER)
        builder.description = builder.description or activity.description
        builder.legal_basis = activity.legal_basis or builder.legal_basis
        builder.add(builder.categories, activity.data_categories)
        builder.add(builder.subject_categories, activity.subject_categories)
        if activity.retention.strip():
            builder.add(
                builder.retention,
                [
                    RetentionRule(
                        store="",
                        category="",
                        text=activity.retention.strip(),
                        source=SOURCE_OFFICER,
                        enforced=False,
                    )
                ],
            )
    everywhere = []
    for recipient in Recipient.objects.select_related("activity__purpose"):
        if recipient.activity is None:
            everywhere.append(recipient)
            continue
        owner = recipient.activity
        key = (
            purpose_key(owner.purpose)
            if owner.purpose is not None
            else text_key(owner.name)
        )
        _add_recipient(builders[key], recipient)
    for builder in builders.values():
        for recipient in everywhere:
            _add_recipient(builder, recipient)
        if not builder.subject_categories:
            builder.add(builder.subject_categories, record.subject_categories or [])
    return builders


def _add_recipient(builder: _Builder, recipient: Recipient) -> None:
    builder.add(builder.recipients, [_recipient_fact(recipient)])
    transfer = _officer_transfer(recipient)
    if transfer is not None:
        builder.add(builder.transfers, [transfer])


def _activity_gaps(builder: _Builder) -> list[Gap]:
    def gap(kind: GapKind, message: str) -> Gap:
        return Gap(
            scope=GapScope.ACTIVITY, subject=builder.name, kind=kind, message=message
        )

    gaps = []
    if not builder.stores and builder.activity is None:
        gaps.append(
            gap(
                GapKind.NO_STORE,
                "no connected store serves this purpose and no details are "
                "recorded for it: link a connector to it or describe the activity",
            )
        )
    elif not builder.categories:
        gaps.append(gap(GapKind.NO_DATA_CATEGORIES, "no data categories recorded"))
    if builder.activity is not None and not builder.stores and not builder.retention:
        gaps.append(
            gap(GapKind.NO_RETENTION, "no retention period or criterion recorded")
        )
    if not builder.subject_categories:
        gaps.append(
            gap(
                GapKind.NO_SUBJECT_CATEGORIES,
                "no categories of data subjects recorded",
            )
        )
    for transfer in builder.transfers:
        if transfer.source == SOURCE_OFFICER and not transfer.safeguards:
            gaps.append(
                gap(
                    GapKind.TRANSFER_WITHOUT_SAFEGUARD,
                    f"{transfer.recipient} is in {transfer.country}, outside the "
                    "EEA, and no safeguard is recorded",
                )
            )
    return gaps


def _controller(record: ProcessingRecord) -> ControllerFacts:
    return ControllerFacts(
        name=record.controller_name.strip() or settings.CONTROLLER_NAME,
        address=record.controller_address.strip(),
        contact=record.controller_contact.strip(),
        representative=record.representative.strip(),
        joint_controllers=record.joint_controllers.strip(),
        dpo_name=record.dpo_name.strip(),
        dpo_contact=record.dpo_contact.strip(),
        dpo_not_designated_reason=record.dpo_not_designated_reason.strip(),
    )


def _controller_gaps(controller: ControllerFacts, security: str) -> list[Gap]:
    def gap(kind: GapKind, message: str) -> Gap:
        return Gap(scope=GapScope.CONTROLLER, subject="", kind=kind, message=message)

    gaps = []
    if not controller.contact:
        gaps.append(
            gap(GapKind.NO_CONTROLLER_CONTACT, "no contact details for the controller")
        )
    if not controller.dpo_contact and not controller.dpo_not_designated_reason:
        gaps.append(
            gap(
                GapKind.NO_DPO,
                "no DPO contact, and no reason recorded why none is designated",
            )
        )
    if not security:
        gaps.append(
            gap(
                GapKind.NO_SECURITY_MEASURES,
                "no description of the technical and organisational security "
                "measures (Art. 32(1))",
            )
        )
    return gaps


def record_build() -> Record:
    """The record as configured now (no permission check: callers check)."""
    record = processing_record_current()
    data_map = data_map_build()
    activities = []
    for builder in sorted(
        _builders(data_map, record).values(), key=lambda b: b.name.casefold()
    ):
        activities.append(
            ActivityEntry(
                key=builder.key,
                name=builder.name,
                description=builder.description,
                legal_basis=builder.legal_basis,
                sources=tuple(builder.sources),
                stores=tuple(builder.stores),
                data_categories=tuple(sorted(builder.categories)),
                subject_categories=tuple(builder.subject_categories),
                recipients=tuple(builder.recipients),
                transfers=tuple(builder.transfers),
                retention=tuple(builder.retention),
                gaps=tuple(_activity_gaps(builder)),
                activity_id=(
                    str(builder.activity.public_id) if builder.activity else ""
                ),
            )
        )
    controller = _controller(record)
    security = record.security_measures.strip()
    gaps = [
        *_controller_gaps(controller, security),
        *(gap for activity in activities for gap in activity.gaps),
        *data_map.gaps,
    ]
    return Record(
        version=record.version,
        changed_at=record.updated_at.isoformat() if record.updated_at else None,
        controller=controller,
        security_measures=security,
        activities=tuple(activities),
        data_map=data_map,
        gaps=tuple(gaps),
    )


def record_read(*, actor: Actor) -> Record:
    """The records of processing, for someone who may read them."""
    actor.require(Perm.GOVERNANCE_VIEW)
    return record_build()


def data_map_read(*, actor: Actor) -> DataMap:
    actor.require(Perm.GOVERNANCE_VIEW)
    return data_map_build()


def record_as_dict(record: Record) -> dict[str, Any]:
    """The record as JSON-ready data (the API, the PDF's facts, the digest)."""
    data = asdict(record)
    data["data_map"]["matrix"] = [
        {"store": store.name, "holds": holds} for store, holds in record.data_map.matrix
    ]
    return data


def record_digest(record: Record) -> str:
    """SHA-256 of the record's content: equal content, equal digest."""
    return hashlib.sha256(canonical_bytes(record_as_dict(record))).hexdigest()
