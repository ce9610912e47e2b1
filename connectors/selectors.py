"""Reads of connectors, always checked against who is asking."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from accounts.actors import Actor
from accounts.permissions import Perm
from connectors.models import Connector


def connector_list(
    *, actor: Actor, kind: str | None = None, enabled: bool | None = None
) -> QuerySet[Connector]:
    actor.require(Perm.CONNECTORS_VIEW)
    connectors = Connector.objects.all()
    if kind:
        connectors = connectors.filter(kind=kind)
    if enabled is not None:
        connectors = connectors.filter(enabled=enabled)
    return connectors.order_by("name")


def connector_get(*, actor: Actor, public_id: str, manage: bool = False) -> Connector:
    """One connector by its public id; `manage=True` for the caller about to
    change it (a write token need not also hold the read scope)."""
    actor.require(Perm.CONNECTORS_MANAGE if manage else Perm.CONNECTORS_VIEW)
    return Connector.objects.get(public_id=public_id)


def connector_secret_fields_set(*, connector: Connector) -> list[str]:
    """The names of the secrets a connector holds; never their values."""
    return sorted(key for key, value in (connector.secrets or {}).items() if value)


def connector_names(*, public_ids: list[str]) -> dict[str, str]:
    """Connector public ids (as text) -> names, for the audit log's labels."""
    valid = []
    for value in public_ids:
        try:
            valid.append(uuid.UUID(value))
        except ValueError:
            continue
    return {
        str(public_id): name
        for public_id, name in Connector.objects.filter(
            public_id__in=valid
        ).values_list("public_id", "name")
    }
