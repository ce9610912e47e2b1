"""The data map: every connected store, the categories it holds and the
purposes they serve, read from what is configured (the connector's data
categories and disclosure, the consent purposes linked to it, the retention
policies naming it). Nothing is filled in: what is missing is a gap."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from connectors.disclosure import StoreDisclosure, store_disclosure_read
from connectors.models import Connector
from connectors.registry import KINDS, SAAS, kind_available
from consent.choices import LegalBasis
from consent.models import Purpose, PurposeConnector
from records.choices import GapKind, GapScope, role_label
from records.countries import is_transfer
from records.selectors.facts import (
    DataMap,
    Gap,
    RecipientFact,
    RetentionRule,
    StorePurpose,
    StoreRow,
    TransferFact,
)
from retention.choices import PolicyAction
from retention.models import RetentionPolicy

SOURCE_DISCLOSURE = "store disclosure"
SOURCE_LINK = "consent purpose link"
SOURCE_KIND = "connector kind"
SOURCE_POLICY = "retention policy"


def purpose_key(purpose: Purpose) -> str:
    return f"purpose:{purpose.slug}"


def text_key(text: str) -> str:
    """An activity known by its wording: the same words, the same activity."""
    return "text:" + " ".join(text.casefold().split())


def legal_basis_label(purpose: Purpose) -> str:
    value = purpose.legal_basis
    return LegalBasis(value).label if value in LegalBasis.values else value


def is_processor_kind(kind: str) -> bool:
    """A support-SaaS kind: the vendor hosts the data and processes it for
    us (Art. 28), so the store's vendor is a processor."""
    return KINDS.get(kind, "").startswith(SAAS)


def _purposes(
    disclosure: StoreDisclosure,
    links: Iterable[Purpose],
    by_name: dict[str, Purpose],
) -> list[StorePurpose]:
    found: dict[str, StorePurpose] = {}
    for purpose in links:
        found[purpose_key(purpose)] = StorePurpose(
            key=purpose_key(purpose),
            name=purpose.name,
            legal_basis=legal_basis_label(purpose),
            source=SOURCE_LINK,
        )
    for stated in disclosure.purposes.values:
        consent = by_name.get(text_key(stated.text))
        key = purpose_key(consent) if consent else text_key(stated.text)
        if key in found:
            continue
        found[key] = StorePurpose(
            key=key,
            name=consent.name if consent else stated.text,
            legal_basis=stated.legal_basis
            or (legal_basis_label(consent) if consent else ""),
            source=SOURCE_DISCLOSURE,
        )
    return list(found.values())


def _policy_rule(store: str, policy: RetentionPolicy) -> RetentionRule:
    action = (
        PolicyAction(policy.action).label
        if policy.action in PolicyAction.values
        else policy.action
    )
    return RetentionRule(
        store=store,
        category=policy.category,
        text=(
            f"{policy.max_age_days} days after {policy.age_column}, then: "
            f"{action[0].lower()}{action[1:]} ({policy.table}; policy "
            f"“{policy.name}”)"
        ),
        source=SOURCE_POLICY,
        enforced=True,
    )


def _retention(
    store: str, disclosure: StoreDisclosure, policies: list[RetentionPolicy]
) -> list[RetentionRule]:
    rules = [_policy_rule(store, policy) for policy in policies]
    if disclosure.retention.values:
        rules.append(
            RetentionRule(
                store=store,
                category="",
                text=disclosure.retention.values[0],
                source=SOURCE_DISCLOSURE,
                enforced=False,
            )
        )
    elif disclosure.retention.not_applicable:
        rules.append(
            RetentionRule(
                store=store,
                category="",
                text=f"Not applicable: {disclosure.retention.not_applicable}",
                source=SOURCE_DISCLOSURE,
                enforced=False,
            )
        )
    return rules


def _recipients(
    connector: Connector, disclosure: StoreDisclosure
) -> list[RecipientFact]:
    found = []
    if is_processor_kind(connector.kind):
        found.append(
            RecipientFact(
                name=connector.kind_label,
                role="processor",
                role_label=role_label("processor"),
                country="",
                source=SOURCE_KIND,
                store=connector.name,
                description=f"hosts the store {connector.name}",
            )
        )
    for recipient in disclosure.recipients.values:
        found.append(
            RecipientFact(
                name=recipient.name or f"category: {recipient.category}",
                role=recipient.role or "recipient",
                role_label=role_label(recipient.role or "recipient"),
                country=recipient.country,
                source=SOURCE_DISCLOSURE,
                store=connector.name,
                description=recipient.reason_text,
            )
        )
    return found


def _transfers(connector: Connector, disclosure: StoreDisclosure) -> list[TransferFact]:
    found = [
        TransferFact(
            country=transfer.country,
            recipient=transfer.recipient,
            safeguards=transfer.safeguards,
            source=SOURCE_DISCLOSURE,
            store=connector.name,
        )
        for transfer in disclosure.transfers.values
    ]
    # A transfer written before disclosures were checked on write may lack
    # its safeguard: the reader leaves it out, the record must not.
    raw = connector.disclosure.get("transfers") if connector.disclosure else None
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict):
            continue
        country = str(entry.get("country") or "").strip()
        safeguards = str(entry.get("safeguards") or "").strip()
        if country and not safeguards:
            found.append(
                TransferFact(
                    country=country,
                    recipient=str(entry.get("recipient") or "").strip(),
                    safeguards="",
                    source=SOURCE_DISCLOSURE,
                    store=connector.name,
                )
            )
    return found


def _gap(store: str, kind: GapKind, message: str) -> Gap:
    return Gap(scope=GapScope.STORE, subject=store, kind=kind, message=message)


def _store_gaps(
    connector: Connector,
    disclosure: StoreDisclosure,
    purposes: list[StorePurpose],
    recipients: list[RecipientFact],
    transfers: list[TransferFact],
    retention: list[RetentionRule],
) -> list[Gap]:
    name = connector.name
    gaps = []
    if not purposes:
        why = disclosure.purposes.not_applicable
        gaps.append(
            _gap(
                name,
                GapKind.NO_PURPOSE,
                "no purpose is recorded in its disclosure and no consent purpose "
                "is linked to it" + (f" (marked not applicable: {why})" if why else ""),
            )
        )
    if not disclosure.categories:
        gaps.append(
            _gap(
                name,
                GapKind.NO_DATA_CATEGORIES,
                "no data categories are recorded for this store",
            )
        )
    covered = {rule.category for rule in retention}
    uncovered = [c for c in disclosure.categories if not covered & {"", c}]
    if uncovered:
        gaps.append(
            _gap(
                name,
                GapKind.NO_RETENTION,
                "no retention period or criterion for "
                + ", ".join(uncovered)
                + ": add a retention policy or state the retention in its "
                "disclosure",
            )
        )
    kind = kind_available(connector.kind)
    if kind is not None and kind.purges and not any(r.enforced for r in retention):
        gaps.append(
            _gap(
                name,
                GapKind.RETENTION_NOT_ENFORCED,
                "no retention policy: the store can be purged on a schedule, but "
                "no enabled policy does it",
            )
        )
    for transfer in transfers:
        if not transfer.safeguards:
            gaps.append(
                _gap(
                    name,
                    GapKind.TRANSFER_WITHOUT_SAFEGUARD,
                    f"transfer to {transfer.country} without a recorded safeguard",
                )
            )
    stated = {t.country.casefold() for t in transfers}
    for recipient in recipients:
        if is_transfer(recipient.country) and (
            recipient.country.casefold() not in stated
        ):
            gaps.append(
                _gap(
                    name,
                    GapKind.TRANSFER_WITHOUT_SAFEGUARD,
                    f"recipient {recipient.name} is in {recipient.country}, outside "
                    "the EEA, and no transfer with its safeguard is recorded",
                )
            )
    return gaps


def data_map_build() -> DataMap:
    """The data map as configured now (no permission check: callers check)."""
    connectors = list(Connector.objects.order_by("name"))
    links: dict[int, list[Purpose]] = defaultdict(list)
    for link in PurposeConnector.objects.filter(enabled=True).select_related("purpose"):
        links[link.connector_id].append(link.purpose)
    policies: dict[int, list[RetentionPolicy]] = defaultdict(list)
    for policy in RetentionPolicy.objects.filter(
        enabled=True, connector__isnull=False
    ).order_by("name"):
        assert policy.connector_id is not None
        policies[policy.connector_id].append(policy)
    by_name = {text_key(p.name): p for p in Purpose.objects.all()}
    rows = []
    for connector in connectors:
        disclosure, _problems = store_disclosure_read(
            connector=connector.name,
            disclosure=connector.disclosure,
            categories=connector.data_categories or [],
        )
        purposes = _purposes(disclosure, links[connector.pk], by_name)
        recipients = _recipients(connector, disclosure)
        transfers = _transfers(connector, disclosure)
        retention = _retention(connector.name, disclosure, policies[connector.pk])
        rows.append(
            StoreRow(
                name=connector.name,
                public_id=str(connector.public_id),
                kind=connector.kind,
                kind_label=connector.kind_label,
                enabled=connector.enabled,
                processor=is_processor_kind(connector.kind),
                categories=disclosure.categories,
                purposes=tuple(purposes),
                recipients=tuple(recipients),
                transfers=tuple(transfers),
                retention=tuple(retention),
                gaps=tuple(
                    _store_gaps(
                        connector,
                        disclosure,
                        purposes,
                        recipients,
                        transfers,
                        retention,
                    )
                ),
            )
        )
    categories = sorted({c for row in rows for c in row.categories})
    return DataMap(stores=tuple(rows), categories=tuple(categories))
