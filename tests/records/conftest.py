"""Stores, purposes and policies configured as staff would, for the record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.actors import actor_system
from connectors.models import Connector
from connectors.services import connector_create
from consent.seed import seed_purposes
from retention.models import RetentionPolicy

COMPLETE_DISCLOSURE: dict[str, Any] = {
    "purposes": [{"purpose": "Answering support requests", "legal_basis": "6(1)(b)"}],
    "recipients": [
        {"name": "Parcel Express GmbH", "role": "recipient", "country": "DE"}
    ],
    "retention": "Two years after the last ticket.",
    "source": "The customer, when writing to support.",
    "automated_decision_making": {"not_applicable": "no automated decisions"},
    "transfers": [
        {
            "country": "United States",
            "recipient": "Helpdesk Cloud Inc.",
            "safeguards": "EU Standard Contractual Clauses (2021/914)",
        }
    ],
}


@pytest.fixture(autouse=True)
def _purposes(db: Any) -> None:
    seed_purposes()


@pytest.fixture
def manual_store(db: Any) -> Callable[..., Connector]:
    """A store configured through the connectors service (a complete disclosure)."""

    def make(name: str = "billing", **overrides: Any) -> Connector:
        values: dict[str, Any] = {
            "data_categories": ["contact", "invoice"],
            "disclosure": COMPLETE_DISCLOSURE,
            **overrides,
        }
        return connector_create(
            actor=actor_system("tests"),
            name=name,
            kind="manual",
            config={"instructions": "Ask the billing team."},
            **values,
        )

    return make


@pytest.fixture
def legacy_store(db: Any) -> Callable[..., Connector]:
    """A store row written before disclosures were checked (what an older
    installation holds): the record must show its gaps, not fill them."""

    def make(name: str, kind: str = "manual", **fields: Any) -> Connector:
        return Connector.objects.create(name=name, kind=kind, config={}, **fields)

    return make


def policy_for(connector: Connector, *, category: str, days: int = 365) -> Any:
    return RetentionPolicy.objects.create(
        name=f"{connector.name} {category}",
        connector=connector,
        table=category,
        category=category,
        age_column="created_at",
        max_age_days=days,
        action="delete",
    )


def _logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def officer_client(officer: User) -> Client:
    return _logged_in(officer)


@pytest.fixture
def auditor_client(auditor: User) -> Client:
    return _logged_in(auditor)


@pytest.fixture
def agent_client(agent: User) -> Client:
    return _logged_in(agent)
