"""Managing API clients: create (token shown once), list and revoke."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from accounts.models import ApiClient
from accounts.services import hash_token
from audit.models import AuditEvent

CLIENTS = reverse("dashboard:api_clients")


def _revoke(client: ApiClient) -> str:
    return reverse("dashboard:api_client_revoke", args=[client.public_id])


def test_api_clients_page_lists_clients_and_scope_checkboxes(
    officer_client: Client, make_api_client
) -> None:
    row, _http = make_api_client("requests:read")

    response = officer_client.get(CLIENTS)

    page = response.content.decode()
    assert response.status_code == 200
    assert row.name in page
    assert row.token_prefix in page
    assert "Never" in page  # last used
    for scope in ("requests:read", "requests:write", "requests:manage", "audit:read"):
        assert f'value="{scope}"' in page


def test_create_shows_the_token_once_and_stores_only_its_hash(
    officer_client: Client,
) -> None:
    # when
    response = officer_client.post(
        CLIENTS, {"name": "Helpdesk", "scopes": ["requests:read", "requests:write"]}
    )

    # then
    token = response.context["token"]
    client = ApiClient.objects.get(name="Helpdesk")
    page = response.content.decode()
    assert response.status_code == 200
    assert token in page
    assert "shown only this once" in page
    assert "no-store" in response["Cache-Control"]
    assert client.token_hash == hash_token(token)
    assert token not in {client.token_hash, client.token_prefix, client.name}
    assert client.scopes == ["requests:read", "requests:write"]
    assert token not in officer_client.get(CLIENTS).content.decode()
    assert AuditEvent.objects.filter(action="api_client.created").count() == 1


def test_create_needs_a_scope_and_a_unique_name(
    officer_client: Client, make_api_client
) -> None:
    existing, _http = make_api_client("requests:read")

    no_scope = officer_client.post(CLIENTS, {"name": "CRM"})
    taken = officer_client.post(
        CLIENTS, {"name": existing.name, "scopes": ["requests:read"]}
    )

    assert "scopes" in no_scope.context["form"].errors
    assert taken.context["form"].errors["name"] == [
        f"a client named {existing.name!r} exists already"
    ]
    assert ApiClient.objects.count() == 1


def test_revoke_works_with_confirmation(
    officer_client: Client, make_api_client
) -> None:
    client, http = make_api_client("requests:read")

    refused = officer_client.post(_revoke(client), {}, follow=True)
    client.refresh_from_db()
    assert client.revoked_at is None
    assert any("I confirm" in str(m) for m in refused.context["messages"])

    response = officer_client.post(_revoke(client), {"confirm": "on"}, follow=True)

    client.refresh_from_db()
    assert client.revoked_at is not None
    assert any("Revoked" in str(m) for m in response.context["messages"])
    assert "Revoked" in response.content.decode()
    assert AuditEvent.objects.filter(action="api_client.revoked").count() == 1


def test_revoking_twice_is_an_error_message(
    officer_client: Client, make_api_client
) -> None:
    client, _http = make_api_client("requests:read")
    officer_client.post(_revoke(client), {"confirm": "on"})

    response = officer_client.post(_revoke(client), {"confirm": "on"}, follow=True)

    assert any("revoked already" in str(m) for m in response.context["messages"])


def test_only_client_managers_may_see_or_change_clients(
    agent_client: Client, auditor_client: Client, make_api_client
) -> None:
    client, _http = make_api_client("requests:read")
    count = ApiClient.objects.count()

    for http in (agent_client, auditor_client):
        assert http.get(CLIENTS).status_code == 403
        created = http.post(CLIENTS, {"name": "Sneaky", "scopes": ["audit:read"]})
        revoked = http.post(_revoke(client), {"confirm": "on"})
        assert created.status_code == 403
        assert revoked.status_code == 403

    client.refresh_from_db()
    assert client.revoked_at is None
    assert ApiClient.objects.count() == count
