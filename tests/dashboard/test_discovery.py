"""Discover a SQL store from the dashboard, the way an officer clicks
through it: the DSN (a secret, never shown back), the scan's progress page,
the proposal form (edited or not), test connection, save as a connector,
and the re-scan button on the connector page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.actors import actor_system
from audit.models import AuditEvent
from connectors.demo.content import customer
from connectors.discovery.proposal import proposal_config
from connectors.discovery.services import discovery_start, dsn_split
from connectors.models import Connector, Discovery
from dashboard.forms.discovery import DiscoveryProposalForm
from privacydesk.errors import ValidationFailed
from tests.connectors.discovery_stores import Target, build_target
from tests.dashboard.test_connector_form import DISCLOSURE_INPUTS

NEW = reverse("dashboard:discovery_new")


@pytest.fixture
def helpdesk(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    return build_target(request, tmp_path, "helpdesk", "sqlite")


def _start(client: Client, dsn: str, capture: Any) -> Discovery:
    with capture(execute=True):
        response = client.post(NEW, {"dsn": dsn})
    assert response.status_code == 302, response.content.decode()[:500]
    discovery = Discovery.objects.get()
    assert response["Location"] == reverse(
        "dashboard:discovery_detail", args=[discovery.public_id]
    )
    return discovery


def _unchanged(discovery: Discovery) -> dict[str, Any]:
    """The proposal form's inputs as the page shows them, nothing edited."""
    form = DiscoveryProposalForm(proposal=discovery.proposal)
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form.get_initial_for_field(field, name)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    data.update(DISCLOSURE_INPUTS)
    data.update(name="helpdesk-discovered", data_categories="contact, support_ticket")
    data["enabled"] = "on"
    return data


def test_the_picker_and_the_sql_form_offer_discovery(officer_client: Client) -> None:
    new = reverse("dashboard:connector_new")
    assert NEW in officer_client.get(new).content.decode()
    assert NEW in officer_client.get(f"{new}?kind=sql").content.decode()
    assert NEW not in officer_client.get(f"{new}?kind=manual").content.decode()


def test_discover_scan_edit_and_save_a_connector(
    officer_client: Client, helpdesk: Target, django_capture_on_commit_callbacks: Any
) -> None:
    # given: the scan started from the DSN form ran (the task, at commit)
    discovery = _start(officer_client, helpdesk.dsn, django_capture_on_commit_callbacks)
    url = reverse("dashboard:discovery_detail", args=[discovery.public_id])

    # when: the proposal page is shown
    page = officer_client.get(url)

    # then: every table, the proposed roles and strategies, no value
    html = page.content.decode()
    assert page.status_code == 200
    for table in ("customers", "tickets", "messages", "ai_conversations"):
        assert f'id="table-{table}"' in html
    assert "Identity: e-mail" in html
    assert helpdesk.subject_email not in html
    assert customer(1).name not in html

    # when: the officer keeps messages' bodies instead of redacting them
    data = _unchanged(discovery)
    messages = next(
        i
        for i, t in enumerate(discovery.proposal["tables"])
        if t["table"] == "messages"
    )
    body = next(
        i
        for i, c in enumerate(discovery.proposal["tables"][messages]["columns"])
        if c["name"] == "body"
    )
    data[f"t{messages}_c{body}_strategy"] = "null"
    data["action"] = "save"
    response = officer_client.post(url, data)

    # then: the connector exists with the edited map, tested at once
    assert response.status_code == 302, response.content.decode()[:2000]
    connector = Connector.objects.get(name="helpdesk-discovered")
    assert response["Location"] == reverse(
        "dashboard:connector_detail", args=[connector.public_id]
    )
    tables = {t["table"]: t for t in connector.config["tables"]}
    assert tables["messages"]["erase"] == {"body": "null"}
    assert tables["customers"]["identity"] == {"email": "email", "phone": "phone"}
    connector.refresh_from_db()
    assert connector.health == "ok"
    follow = officer_client.get(response["Location"]).content.decode()
    assert "Connection works" in follow
    # the scan now leads to its connector
    assert officer_client.get(url)["Location"] == response["Location"]


def test_saving_the_proposal_unchanged_saves_the_proposed_map(
    officer_client: Client, helpdesk: Target, django_capture_on_commit_callbacks: Any
) -> None:
    discovery = _start(officer_client, helpdesk.dsn, django_capture_on_commit_callbacks)
    url = reverse("dashboard:discovery_detail", args=[discovery.public_id])

    response = officer_client.post(url, {**_unchanged(discovery), "action": "save"})

    assert response.status_code == 302
    connector = Connector.objects.get(name="helpdesk-discovered")
    assert connector.config == proposal_config(discovery.proposal, dsn=helpdesk.dsn)


def test_test_connection_saves_nothing(
    officer_client: Client, helpdesk: Target, django_capture_on_commit_callbacks: Any
) -> None:
    discovery = _start(officer_client, helpdesk.dsn, django_capture_on_commit_callbacks)
    url = reverse("dashboard:discovery_detail", args=[discovery.public_id])

    response = officer_client.post(url, {**_unchanged(discovery), "action": "test"})

    assert response.status_code == 200
    assert "Connection works" in response.content.decode()
    assert not Connector.objects.exists()


def test_a_map_the_kind_refuses_names_the_table_and_saves_nothing(
    officer_client: Client, helpdesk: Target, django_capture_on_commit_callbacks: Any
) -> None:
    discovery = _start(officer_client, helpdesk.dsn, django_capture_on_commit_callbacks)
    url = reverse("dashboard:discovery_detail", args=[discovery.public_id])
    data = _unchanged(discovery)
    customers = next(
        i
        for i, t in enumerate(discovery.proposal["tables"])
        if t["table"] == "customers"
    )
    email = next(
        i
        for i, c in enumerate(discovery.proposal["tables"][customers]["columns"])
        if c["name"] == "email"
    )
    data[f"t{customers}_c{email}_strategy"] = ""  # an identity with no strategy

    response = officer_client.post(url, {**data, "action": "save"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "table customers: identity column email has no strategy" in html
    assert not Connector.objects.exists()
    discovery.refresh_from_db()
    assert discovery.dsn  # still there to save once corrected


def test_the_progress_page_refreshes_while_the_scan_is_queued(
    officer_client: Client, helpdesk: Target, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        officer_client.post(NEW, {"dsn": helpdesk.dsn})
    discovery = Discovery.objects.get()

    page = officer_client.get(
        reverse("dashboard:discovery_detail", args=[discovery.public_id])
    )

    html = page.content.decode()
    assert "Scanning the store" in html
    assert 'data-refresh="2"' in html
    assert 'role="progressbar"' in html


def test_a_failed_scan_says_why_without_the_password(
    officer_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    dsn = "postgresql://reader:pw-Secret-77@127.0.0.1:1/none"
    discovery = _start(officer_client, dsn, django_capture_on_commit_callbacks)

    page = officer_client.get(
        reverse("dashboard:discovery_detail", args=[discovery.public_id])
    ).content.decode()

    assert "The scan failed" in page
    assert "connecting" in page
    assert "pw-Secret-77" not in page
    assert not any("pw-Secret-77" in str(e.data) for e in AuditEvent.objects.all())


def test_a_bad_dsn_is_refused_on_its_field_and_never_shown_back(
    officer_client: Client,
) -> None:
    response = officer_client.post(NEW, {"dsn": "oracle://scott:tiger@db/orcl"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "unsupported database URL" in html
    assert "tiger" not in html
    assert not Discovery.objects.exists()


def test_staff_without_connector_rights_cannot_discover(
    agent_client: Client, helpdesk: Target
) -> None:
    assert agent_client.get(NEW).status_code == 403
    response = agent_client.post(NEW, {"dsn": helpdesk.dsn})

    assert response.status_code == 403
    assert not Discovery.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="connector.").exists()


def test_the_rescan_button_shows_what_the_map_lacks(
    officer_client: Client, helpdesk: Target, django_capture_on_commit_callbacks: Any
) -> None:
    discovery = _start(officer_client, helpdesk.dsn, django_capture_on_commit_callbacks)
    url = reverse("dashboard:discovery_detail", args=[discovery.public_id])
    officer_client.post(url, {**_unchanged(discovery), "action": "save"})
    connector = Connector.objects.get()
    helpdesk.execute("ALTER TABLE tickets ADD COLUMN requester_phone TEXT")
    helpdesk.execute("UPDATE tickets SET requester_phone = '+44 20 7946 0000'")

    response = officer_client.post(
        reverse("dashboard:connector_rescan", args=[connector.public_id]), follow=True
    )

    html = response.content.decode()
    assert "1 personal-looking column(s) not in the map" in html
    assert "tickets.requester_phone" in html
    assert "7946 0000" not in html


def test_dsn_split_moves_the_password_out() -> None:
    assert dsn_split("postgresql://app:p%40ss@db.internal:5432/support") == (
        "postgresql://app@db.internal:5432/support",
        "p@ss",
    )
    assert dsn_split("sqlite:////srv/helpdesk.db") == ("sqlite:////srv/helpdesk.db", "")
    with pytest.raises(ValidationFailed, match="not as a parameter"):
        dsn_split("postgresql://app@db/support?password=x")


def test_the_admin_shows_scans_read_only_without_the_dsn(
    admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    dsn = "postgresql://reader:pw-Admin-42@127.0.0.1:1/none"
    with django_capture_on_commit_callbacks(execute=False):
        discovery = discovery_start(actor=actor_system("tests"), dsn=dsn)

    listing = admin_client.get("/admin/connectors/discovery/")
    detail = admin_client.get(f"/admin/connectors/discovery/{discovery.pk}/change/")

    assert listing.status_code == detail.status_code == 200
    assert str(discovery.public_id) in listing.content.decode()
    assert "pw-Admin-42" not in detail.content.decode()
    assert "127.0.0.1" not in detail.content.decode()
