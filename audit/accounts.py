"""The audited actions on staff and API clients.

accounts sits below audit and records nothing; these are the entry points
that front doors, commands and domain services call, each doing the accounts
write and recording its audit event in one transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from accounts.actors import Actor
from accounts.models import ApiClient
from accounts.services import (
    api_client_cache_refresh,
    api_client_row_create,
    api_client_row_revoke,
)
from audit.services import audit_record

if TYPE_CHECKING:
    from connectors.models import Connector


@transaction.atomic
def api_client_create(
    *,
    actor: Actor,
    name: str,
    scopes: list[str],
    connector: Connector | None = None,
) -> tuple[ApiClient, str]:
    """Create a client and return it with its token, shown this once only.

    A pull agent's client is bound to one `connector` and holds only the
    agent scope (accounts.services.api_client_row_create has the rules)."""
    client, token = api_client_row_create(
        actor=actor, name=name, scopes=scopes, connector=connector
    )
    audit_record(
        actor=actor,
        action="api_client.created",
        obj=client,
        data={
            "scopes": client.scopes,
            **({"connector": connector.name} if connector is not None else {}),
        },
    )
    return client, token


@transaction.atomic
def api_client_revoke(*, actor: Actor, client: ApiClient) -> ApiClient:
    """Revoke a client's token; refused when it is revoked already."""
    client = api_client_row_revoke(actor=actor, client=client)
    audit_record(actor=actor, action="api_client.revoked", obj=client, data={})
    return client


def staff_login_record(*, actor: Actor) -> None:
    """A staff member logged in to the dashboard."""
    audit_record(actor=actor, action="staff.login", obj=None, data={})


def api_client_scope_use_note(*, client: ApiClient, scope: str) -> bool:
    """Note that a client called the API with `scope`; the first use of each
    scope is an audit event (`api_client.scope_first_used`). True when this
    was the first. Costs nothing once the client's row, which the bearer
    authentication caches, lists the scope."""
    if scope in client.scopes_used:
        return False
    with transaction.atomic():
        row = ApiClient.objects.select_for_update().filter(pk=client.pk).first()
        if row is None:
            return False
        if scope in row.scopes_used:
            client.scopes_used = row.scopes_used
            api_client_cache_refresh(client=row)
            return False
        row.scopes_used = sorted({*row.scopes_used, scope})
        ApiClient.objects.filter(pk=row.pk).update(scopes_used=row.scopes_used)
        audit_record(
            actor=f"client:{row.public_id}",
            action="api_client.scope_first_used",
            obj=row,
            data={"scope": scope},
        )
        # The cached row the next calls authenticate with lists it now.
        api_client_cache_refresh(client=row)
    client.scopes_used = row.scopes_used
    return True
