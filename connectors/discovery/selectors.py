"""Reads of discovery, checked against who is asking."""

from __future__ import annotations

from accounts.actors import Actor
from accounts.permissions import Perm
from connectors.choices import DiscoveryKind, DiscoveryStatus
from connectors.models import Connector, Discovery


def discovery_get(*, actor: Actor, public_id: str) -> Discovery:
    """One discovery scan by its public id (raises Discovery.DoesNotExist)."""
    actor.require(Perm.CONNECTORS_MANAGE)
    return Discovery.objects.get(public_id=public_id, kind=DiscoveryKind.SCAN)


def connector_last_rescan(*, actor: Actor, connector: Connector) -> Discovery | None:
    """The connector's latest finished re-scan, if any."""
    actor.require(Perm.CONNECTORS_VIEW)
    return (
        connector.discoveries.filter(
            kind=DiscoveryKind.RESCAN,
            status__in=(DiscoveryStatus.DONE, DiscoveryStatus.FAILED),
        )
        .order_by("-created_at")
        .first()
    )
