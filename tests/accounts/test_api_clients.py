"""API clients: tokens are shown once, stored hashed, scoped and revocable."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.actors import actor_for_user, actor_system
from accounts.models import ApiClient
from accounts.services import hash_token
from audit.accounts import api_client_create, api_client_revoke
from audit.models import AuditEvent
from privacydesk.errors import IllegalTransition, NotPermitted, ValidationFailed

pytestmark = pytest.mark.django_db


def test_command_prints_the_token_on_its_last_line_and_stores_its_hash() -> None:
    out = StringIO()

    call_command(
        "create_api_client",
        "crm",
        "--scopes",
        "requests:read,requests:write",
        stdout=out,
    )

    token = out.getvalue().strip().splitlines()[-1]
    client = ApiClient.objects.get(name="crm")
    assert token.startswith("pd_")
    assert len(token) > 40
    assert client.token_hash == hash_token(token)
    assert token not in client.token_hash
    assert client.scopes == ["requests:read", "requests:write"]


def test_unknown_scope_is_refused_naming_it() -> None:
    with pytest.raises(CommandError, match="requests:delete"):
        call_command(
            "create_api_client", "crm", "--scopes", "requests:delete", stdout=StringIO()
        )
    assert ApiClient.objects.count() == 0


def test_duplicate_name_is_refused() -> None:
    api_client_create(actor=actor_system("t"), name="crm", scopes=["requests:read"])
    with pytest.raises(ValidationFailed) as error:
        api_client_create(actor=actor_system("t"), name="crm", scopes=["requests:read"])
    assert error.value.field == "name"


def test_support_agent_cannot_create_clients(agent) -> None:
    with pytest.raises(NotPermitted):
        api_client_create(
            actor=actor_for_user(agent), name="x", scopes=["requests:read"]
        )
    assert ApiClient.objects.count() == 0
    assert not AuditEvent.objects.exists()


def test_revoked_token_is_refused_by_the_api(make_api_client) -> None:
    client, http = make_api_client("requests:read")
    assert http.get("/api/v1/requests/").status_code == 200

    api_client_revoke(actor=actor_system("t"), client=client)

    assert http.get("/api/v1/requests/").status_code == 401
    assert AuditEvent.objects.filter(action="api_client.revoked").count() == 1
    with pytest.raises(IllegalTransition):
        api_client_revoke(actor=actor_system("t"), client=client)


def test_creating_a_client_is_audited_with_its_scopes() -> None:
    # when
    client, _ = api_client_create(
        actor=actor_system("t"), name="crm", scopes=["requests:read"]
    )

    # then
    event = AuditEvent.objects.get(action="api_client.created")
    assert event.actor == "system:t"
    assert event.object_id == str(client.public_id)
    assert event.data == {"scopes": ["requests:read"]}
