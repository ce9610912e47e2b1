"""Purpose <-> store links managed in the dashboard, and the demo's link: a
customer's withdrawal on the portal visibly changes the demo helpdesk."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from accounts.actors import actor_system
from audit.models import AuditEvent
from connectors.demo.config import HELPDESK_DISCLOSURE, SQL_CONNECTOR_TABLES
from connectors.demo.content import StoreSize
from connectors.demo.content import customer as demo_customer
from connectors.demo.stores import build_sqlite
from connectors.models import Connector
from connectors.services import connector_create
from consent.demo import DEMO_ACTION, consent_demo_seed
from consent.models import ConsentPropagation, PurposeConnector
from consent.seed import seed_purposes
from tests.portal.conftest import last_code

PURPOSES = reverse("dashboard:consent_purposes")
SAVE = reverse("dashboard:consent_link_save", args=["ai_training"])
PREFIX = "link-ai_training"


@pytest.fixture(autouse=True)
def _purposes(db: Any) -> None:
    seed_purposes()


@pytest.fixture
def helpdesk(tmp_path: Path) -> tuple[Connector, Path]:
    """The demo helpdesk, small: customers 1-12 with tickets and messages."""
    store = tmp_path / "helpdesk.sqlite3"
    build_sqlite(store, StoreSize(customers=12))
    connector = connector_create(
        actor=actor_system("tests"),
        name="helpdesk",
        kind="sql",
        config={
            "dsn": f"sqlite:///{store}",
            "tables": SQL_CONNECTOR_TABLES,
            "conversations": "tickets",
        },
        data_categories=["contact", "support_ticket"],
        disclosure=HELPDESK_DISCLOSURE,
    )
    return connector, store


def opted_out(store: Path, email: str) -> bool:
    with sqlite3.connect(store) as db:
        row = db.execute(
            "SELECT ai_training_opt_out FROM customers WHERE email = ?", (email,)
        ).fetchone()
    return bool(row[0])


def post_link(client: Any, connector: str, action: Any, enabled: bool = True) -> Any:
    data = {
        f"{PREFIX}-connector": connector,
        f"{PREFIX}-action": action if isinstance(action, str) else json.dumps(action),
    }
    if enabled:
        data[f"{PREFIX}-enabled"] = "on"
    return client.post(SAVE, data)


def test_empty_state_says_no_store_is_told(officer_client, helpdesk):
    page = officer_client.get(PURPOSES).content.decode()
    assert page.count('data-testid="no-links"') == 5  # every seeded purpose
    assert "manage.py link_purpose_connector" not in page


def test_officer_links_and_unlinks_a_store(officer_client, helpdesk):
    # when
    response = post_link(officer_client, "helpdesk", DEMO_ACTION)

    # then
    assert response.status_code == 302
    link = PurposeConnector.objects.get()
    assert (link.purpose.slug, link.connector.name) == ("ai_training", "helpdesk")
    assert link.action == DEMO_ACTION
    assert link.enabled
    page = officer_client.get(PURPOSES).content.decode()
    assert 'data-link="ai_training:helpdesk"' in page
    assert AuditEvent.objects.filter(action="consent.connector_linked").exists()

    # when: unlinked
    remove = reverse("dashboard:consent_link_remove", args=["ai_training", "helpdesk"])
    assert officer_client.post(remove).status_code == 302
    assert not PurposeConnector.objects.exists()
    assert AuditEvent.objects.filter(action="consent.connector_unlinked").exists()


@pytest.mark.parametrize(
    ("action", "field_error"),
    [
        ("{not json", "Not valid JSON"),
        ('["a list"]', "must be an object"),
        (
            {"set": {"table": "no_such_table", "column": "x", "value": True}},
            "no_such_table",
        ),
    ],
)
def test_a_bad_action_is_refused_on_its_field(
    officer_client, helpdesk, action, field_error
):
    response = post_link(officer_client, "helpdesk", action)
    assert response.status_code == 400
    form = response.context["rows"][1]["link_form"]  # ai_processing, ai_training…
    assert form.prefix == PREFIX
    assert field_error in " ".join(form.errors["action"])
    assert not PurposeConnector.objects.exists()


def test_an_unknown_store_is_refused_on_its_field(officer_client, helpdesk):
    response = post_link(officer_client, "nope", DEMO_ACTION)
    assert response.status_code == 400
    assert not PurposeConnector.objects.exists()


def test_auditor_sees_links_but_cannot_change_them(auditor_client, helpdesk):
    consent_demo_seed()
    page = auditor_client.get(PURPOSES).content.decode()
    assert 'data-link="ai_training:helpdesk"' in page
    assert "Link a store" not in page
    assert post_link(auditor_client, "helpdesk", DEMO_ACTION).status_code == 403
    remove = reverse("dashboard:consent_link_remove", args=["ai_training", "helpdesk"])
    assert auditor_client.post(remove).status_code == 403
    assert PurposeConnector.objects.count() == 1


def test_demo_link_is_made_once_and_left_alone_after(helpdesk):
    assert consent_demo_seed() is True
    assert consent_demo_seed() is False
    PurposeConnector.objects.update(enabled=False)  # the officer disabled it
    assert consent_demo_seed() is False
    assert PurposeConnector.objects.get().enabled is False


def test_a_withdrawal_on_the_portal_changes_the_demo_store(
    client, helpdesk, django_capture_on_commit_callbacks
):
    # given the demo's link, and a demo customer of the helpdesk
    _, store = helpdesk
    consent_demo_seed()
    email = demo_customer(7).email
    assert not opted_out(store, email)

    # when the customer opens their choices with a code and withdraws
    code_page = client.post(reverse("portal:choices"), {"email": email})["Location"]
    consents = client.post(code_page, {"code": last_code()})["Location"]
    client.post(consents, {"purpose": "ai_training", "choice": "allow"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(consents, {"purpose": "ai_training", "choice": "withdraw"})

    # then the helpdesk row carries the opt-out, and only that customer's
    assert opted_out(store, email)
    assert not opted_out(store, demo_customer(8).email)
    propagation = ConsentPropagation.objects.get()
    assert propagation.status == "succeeded"
    assert propagation.records_changed == 1
