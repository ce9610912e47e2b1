"""Writes for staff accounts and API clients, without their audit events.

accounts sits below audit, so nothing here records one. Staff and API-client
actions are audited by the entry points in audit.accounts (`api_client_create`,
`api_client_revoke`, `staff_login_record`), which call these writes and
record the event in the same transaction; call those, not these.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.choices import Role, Scope
from accounts.models import ApiClient
from accounts.permissions import Perm
from privacydesk.errors import IllegalTransition, ValidationFailed

if TYPE_CHECKING:
    from connectors.models import Connector

TOKEN_PREFIX = "pd_"
# Authentication keeps a client in the cache this long; revoking forgets it.
API_CLIENT_CACHE_SECONDS = 15


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_client_cache_key(token_hash: str) -> str:
    return f"api-client:{token_hash}"


def _forget_cached_client(client: ApiClient) -> None:
    key = api_client_cache_key(client.token_hash)

    def forget() -> None:
        # A cache outage cannot block a revocation: entries expire by then.
        with contextlib.suppress(Exception):
            cache.delete(key)

    # Now, and again after commit: a call that read the row before the commit
    # may have cached it meanwhile.
    forget()
    transaction.on_commit(forget)


def api_client_cache_refresh(*, client: ApiClient) -> None:
    """Put a client's fresh row in the cache authentication reads, after a
    change to what the hot path reads (its scopes used). Call it with the row
    locked: a revocation waits for the lock, then forgets the entry."""
    if client.revoked_at is not None:
        _forget_cached_client(client)
        return
    with contextlib.suppress(Exception):  # a cache outage: the entry expires
        cache.set(
            api_client_cache_key(client.token_hash), client, API_CLIENT_CACHE_SECONDS
        )


def _validate_scopes(scopes: list[str]) -> list[str]:
    valid = set(Scope.values)
    unknown = [scope for scope in scopes if scope not in valid]
    if unknown:
        raise ValidationFailed(
            f"unknown scope(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))}",
            field="scopes",
        )
    if not scopes:
        raise ValidationFailed("at least one scope is required", field="scopes")
    return sorted(set(scopes))


@transaction.atomic
def api_client_row_create(
    *,
    actor: Actor,
    name: str,
    scopes: list[str],
    connector: Connector | None = None,
) -> tuple[ApiClient, str]:
    """Check and insert a client; return it with its token, shown this once only.
    Records no audit event: audit.accounts.api_client_create does.

    A pull agent's client is bound to one `connector` and holds only the
    agent scope, so a leaked agent token reaches one store's jobs and nothing
    else."""
    actor.require(Perm.CLIENTS_MANAGE)
    name = name.strip()
    if not name:
        raise ValidationFailed("a name is required", field="name")
    if ApiClient.objects.filter(name=name).exists():
        raise ValidationFailed(f"a client named {name!r} exists already", field="name")
    if (Scope.CONNECTORS_AGENT in scopes) != (connector is not None):
        raise ValidationFailed(
            f"the scope {Scope.CONNECTORS_AGENT} goes with exactly one connector",
            field="connector" if connector is None else "scopes",
        )
    if connector is not None and set(scopes) != {Scope.CONNECTORS_AGENT}:
        raise ValidationFailed(
            f"an agent token holds only the scope {Scope.CONNECTORS_AGENT}",
            field="scopes",
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        name=name,
        scopes=_validate_scopes(scopes),
        token_prefix=token[:10],
        token_hash=hash_token(token),
        created_by_id=actor.user_id,
        connector=connector,
    )
    return client, token


@transaction.atomic
def api_client_row_revoke(*, actor: Actor, client: ApiClient) -> ApiClient:
    """Revoke a live client (it is forgotten by the cache at once). Records no
    audit event: audit.accounts.api_client_revoke does."""
    actor.require(Perm.CLIENTS_MANAGE)
    changed = ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if changed != 1:
        raise IllegalTransition("this client is revoked already")
    client.refresh_from_db()
    _forget_cached_client(client)
    return client


def api_client_touch(*, client: ApiClient) -> None:
    """Note when a client was last seen, at most once a minute (no hot row)."""
    now = timezone.now()
    if client.last_used_at is None or now - client.last_used_at > timedelta(minutes=1):
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)


def staff_set_role(*, user: User, role: Role) -> None:
    """Put a staff member in exactly one role group (used by seeding and admin)."""
    groups = [Group.objects.get_or_create(name=r.value)[0] for r in Role]
    user.groups.remove(*groups)
    user.groups.add(Group.objects.get(name=role.value))
