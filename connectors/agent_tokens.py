"""Agent tokens: a bearer token bound to one `pull` connector, with which its
agent works that connector's jobs (request tasks, dsr.services.agent_jobs;
consent withdrawals, consent.services.jobs) and nothing else."""

from __future__ import annotations

from accounts.actors import Actor
from accounts.choices import Scope
from accounts.models import ApiClient
from audit.accounts import api_client_create
from connectors.choices import ConnectorKindChoice
from connectors.models import Connector
from privacydesk.errors import ValidationFailed


def pull_connector_get(*, name: str) -> Connector:
    connector = Connector.objects.filter(name=name).first()
    if connector is None:
        raise ValidationFailed(f"no connector named {name!r}", field="connector")
    if connector.kind != ConnectorKindChoice.PULL:
        raise ValidationFailed(
            f"{name} is a {connector.kind} connector; only pull connectors have agents",
            field="connector",
        )
    return connector


def agent_token_create(
    *, actor: Actor, connector: Connector, name: str = ""
) -> tuple[ApiClient, str]:
    """Issue a bearer token that works the jobs of this one pull connector."""
    if connector.kind != ConnectorKindChoice.PULL:
        raise ValidationFailed("only pull connectors have agents", field="connector")
    name = name.strip()
    if not name:
        taken = set(
            ApiClient.objects.filter(
                name__startswith=f"agent-{connector.name}"
            ).values_list("name", flat=True)
        )
        number = 1
        while f"agent-{connector.name}-{number}" in taken:
            number += 1
        name = f"agent-{connector.name}-{number}"
    return api_client_create(
        actor=actor,
        name=name,
        scopes=[Scope.CONNECTORS_AGENT],
        connector=connector,
    )
