"""One rule for a store's Art. 15 disclosure: the letter's, checked on write."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.actors import Actor
from audit.models import AuditEvent
from connectors.demo.config import HELPDESK_DISCLOSURE, TRANSCRIPTS_DISCLOSURE
from connectors.disclosure import store_disclosure_problems, store_disclosure_read
from connectors.models import Connector
from connectors.services import connector_create, connector_set_enabled
from privacydesk.errors import ValidationFailed
from tests.disclosure import CATEGORIES, DISCLOSURE

INCOMPLETE: list[tuple[dict[str, Any], list[str], str]] = [
    # (disclosure, categories, the path the write is refused at)
    ({}, CATEGORIES, "disclosure.purposes"),
    (
        {k: v for k, v in DISCLOSURE.items() if k != "automated_decision_making"},
        CATEGORIES,
        "disclosure.automated_decision_making",
    ),
    (
        {k: v for k, v in DISCLOSURE.items() if k != "transfers"},
        CATEGORIES,
        "disclosure.transfers",
    ),
    (
        {**DISCLOSURE, "transfers": [{"country": "United States"}]},
        CATEGORIES,
        "disclosure.transfers[0]",
    ),
    (
        {**DISCLOSURE, "retention": {"not_applicable": ""}},
        CATEGORIES,
        "disclosure.retention",
    ),
    (DISCLOSURE, [], "data_categories"),
]


@pytest.mark.parametrize(("disclosure", "categories", "path"), INCOMPLETE)
def test_a_write_is_refused_where_the_letter_would_be(
    db: None,
    system_actor: Actor,
    disclosure: dict[str, Any],
    categories: list[str],
    path: str,
) -> None:
    # when the letter reads it, and when a connector is written with it
    _, letter_problems = store_disclosure_read(
        connector="billing", disclosure=disclosure, categories=categories
    )
    with pytest.raises(ValidationFailed) as refused:
        connector_create(
            actor=system_actor,
            name="billing",
            kind="manual",
            config={"instructions": "Flag the customer in the billing tool."},
            data_categories=categories,
            disclosure=disclosure,
        )

    # then both name the same first problem, and nothing was written
    first_message = refused.value.message.split("; also ")[0]
    assert refused.value.field == path
    assert letter_problems[0] == f"billing: {path} {first_message}"
    assert not Connector.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="connector.").exists()


def test_a_refusal_names_every_other_missing_item_too(
    db: None, system_actor: Actor
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        connector_create(
            actor=system_actor,
            name="billing",
            kind="manual",
            config={"instructions": "Flag the customer in the billing tool."},
            data_categories=CATEGORIES,
            disclosure={"purposes": ["Billing"], "retention": "Ten years"},
        )

    assert refused.value.field == "disclosure.recipients"
    assert refused.value.message.endswith(
        "; also disclosure.source, disclosure.automated_decision_making, "
        "disclosure.transfers"
    )


@pytest.mark.parametrize(
    ("disclosure", "categories"),
    [
        (HELPDESK_DISCLOSURE, ["contact", "support_ticket"]),
        (TRANSCRIPTS_DISCLOSURE, ["ai_conversation"]),
        (DISCLOSURE, CATEGORIES),
    ],
)
def test_the_demo_and_test_disclosures_are_complete(
    disclosure: dict[str, Any], categories: list[str]
) -> None:
    assert store_disclosure_problems(disclosure=disclosure, categories=categories) == []


def test_enabling_a_connector_stored_incomplete_is_refused(
    db: None, system_actor: Actor
) -> None:
    # given a connector stored before disclosures were checked, disabled
    connector = Connector.objects.create(
        name="legacy",
        kind="manual",
        config={"instructions": "Flag the customer in the billing tool."},
        data_categories=CATEGORIES,
        disclosure={"purposes": ["Billing"]},
        enabled=False,
    )

    with pytest.raises(ValidationFailed) as refused:
        connector_set_enabled(actor=system_actor, connector=connector, enabled=True)

    assert refused.value.field == "disclosure.recipients"
    connector.refresh_from_db()
    assert connector.enabled is False
    assert not AuditEvent.objects.filter(action="connector.enabled").exists()
