"""The record and the data map, read from configured stores, purposes and
policies: facts carried over, gaps flagged, nothing invented."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from accounts.actors import actor_for_user, actor_system
from connectors.models import Connector
from consent.models import Purpose, PurposeConnector
from privacydesk.errors import NotPermitted
from records.selectors.record import record_build, record_digest, record_read
from records.services import (
    activity_create,
    processing_record_update,
    recipient_create,
)
from tests.records.conftest import policy_for

pytestmark = pytest.mark.django_db
SYSTEM = actor_system("tests")


def _gaps(record, subject: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {g.kind: g.message for g in record.gaps if g.subject == subject}


def test_a_complete_store_gives_its_purpose_recipients_transfers_retention(
    manual_store: Callable[..., Connector],
) -> None:
    # given a store with a complete disclosure and a policy for each category
    store = manual_store()
    policy_for(store, category="contact", days=400)
    policy_for(store, category="invoice", days=3650)

    # when
    record = record_build()

    # then its purpose is an activity with the store's facts
    activity = next(a for a in record.activities if a.stores == ("billing",))
    assert activity.name == "Answering support requests"
    assert activity.legal_basis == "6(1)(b)"
    assert activity.data_categories == ("contact", "invoice")
    assert [r.name for r in activity.recipients] == ["Parcel Express GmbH"]
    assert [(t.country, t.safeguards) for t in activity.transfers] == [
        ("United States", "EU Standard Contractual Clauses (2021/914)")
    ]
    texts = [rule.text for rule in activity.retention]
    assert any(text.startswith("400 days after created_at") for text in texts)
    assert "Two years after the last ticket." in texts
    assert _gaps(record, "billing") == {}


def test_gaps_of_a_store_are_flagged_and_not_filled(
    legacy_store: Callable[..., Connector],
) -> None:
    # given a store with nothing recorded, and one whose US recipient has no
    # transfer recorded
    legacy_store("bare")
    legacy_store(
        "shipping",
        data_categories=["address"],
        disclosure={
            "purposes": ["Delivering orders"],
            "recipients": [{"name": "Ship Co", "country": "US"}],
            "retention": "Six months after delivery.",
        },
    )

    # when
    record = record_build()

    # then
    bare = _gaps(record, "bare")
    assert set(bare) == {"no_purpose", "no_data_categories"}
    shipping = _gaps(record, "shipping")
    assert set(shipping) == {"transfer_without_safeguard"}
    assert "Ship Co" in shipping["transfer_without_safeguard"]
    # and nothing is made up for the bare store
    row = next(s for s in record.data_map.stores if s.name == "bare")
    assert row.purposes == ()
    assert row.categories == ()
    assert row.retention == ()


def test_a_purgeable_store_without_a_policy_is_flagged(
    legacy_store: Callable[..., Connector],
) -> None:
    # given an sql store whose categories only the disclosure covers
    store = legacy_store(
        "helpdesk",
        kind="sql",
        data_categories=["contact", "support_ticket"],
        disclosure={"purposes": ["Support"], "retention": "24 months"},
    )

    # when / then: not enforced by any purge
    assert "retention_not_enforced" in _gaps(record_build(), "helpdesk")

    # given a policy for one category, and the disclosure's text removed
    policy_for(store, category="support_ticket")
    Connector.objects.filter(pk=store.pk).update(disclosure={"purposes": ["Support"]})

    # then the uncovered category is named
    gaps = _gaps(record_build(), "helpdesk")
    assert "retention_not_enforced" not in gaps
    assert "for contact:" in gaps["no_retention"]
    assert "support_ticket" not in gaps["no_retention"]


def test_a_saas_store_is_a_processor(legacy_store: Callable[..., Connector]) -> None:
    legacy_store("zendesk", kind="zendesk", data_categories=["contact"])

    row = next(s for s in record_build().data_map.stores if s.name == "zendesk")

    assert row.processor
    assert [(r.name, r.role) for r in row.recipients] == [
        ("Zendesk Support", "processor")
    ]


def test_consent_purposes_are_activities_and_links_bring_their_stores(
    manual_store: Callable[..., Connector],
) -> None:
    # given the consent purpose "ai_processing" linked to a store
    store = manual_store("transcripts")
    purpose = Purpose.objects.get(slug="ai_processing")
    PurposeConnector.objects.create(purpose=purpose, connector=store)

    # when
    record = record_build()

    # then every consent purpose is an activity; the linked one has the store
    names = {a.name for a in record.activities}
    assert set(Purpose.objects.values_list("name", flat=True)) <= names
    linked = next(a for a in record.activities if a.key == "purpose:ai_processing")
    assert linked.stores == ("transcripts",)
    assert linked.legal_basis == "Consent (Art. 6(1)(a))"
    assert linked.data_categories == ("contact", "invoice")
    # and a purpose no store serves and nobody described is a gap, not a guess
    marketing = next(a for a in record.activities if a.key == "purpose:marketing_email")
    assert [g.kind for g in marketing.gaps] == ["no_store", "no_subject_categories"]
    assert marketing.data_categories == ()


def test_the_officers_part_completes_the_record(
    manual_store: Callable[..., Connector],
) -> None:
    # given the officer's entries
    processing_record_update(
        actor=SYSTEM,
        controller_contact="privacy@example.com",
        dpo_not_designated_reason="fewer than 250 staff, no large-scale processing",
        security_measures="Encryption at rest, MFA for staff.",
        subject_categories=["customers"],
    )
    marketing = activity_create(
        actor=SYSTEM,
        purpose=Purpose.objects.get(slug="marketing_email"),
        data_categories=["contact"],
        retention="Until consent is withdrawn.",
    )
    recipient_create(
        actor=SYSTEM,
        name="Mailer Inc.",
        role="processor",
        activity=marketing,
        country="US",
        safeguards="",
    )

    # when
    record = record_build()

    # then
    entry = next(a for a in record.activities if a.key == "purpose:marketing_email")
    assert entry.data_categories == ("contact",)
    assert entry.subject_categories == ("customers",)
    assert [r.text for r in entry.retention] == ["Until consent is withdrawn."]
    assert [g.kind for g in entry.gaps] == ["transfer_without_safeguard"]
    assert "Mailer Inc." in entry.gaps[0].message
    assert not [g for g in record.gaps if g.scope == "controller"]
    assert record.version == 3


def test_the_digest_follows_the_content(manual_store: Callable[..., Connector]) -> None:
    before = record_digest(record_build())
    assert record_digest(record_build()) == before

    manual_store()

    assert record_digest(record_build()) != before


def test_reading_needs_the_governance_permission(agent, auditor) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotPermitted):
        record_read(actor=actor_for_user(agent))
    assert record_read(actor=actor_for_user(auditor)).version == 0
