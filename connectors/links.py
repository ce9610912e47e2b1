"""One store reading another while it works: a vector store matches the
conversation ids a helpdesk connector lists for the subject
(`ConnectorKind.conversation_ids`), naming it in its config
(`ConnectorKind.reads_from`). The executor orders their erasures
(dsr.services.execution.running)."""

from __future__ import annotations

from connectors.base import ConnectorError, ConnectorKind
from connectors.models import Connector


def linked_instance(name: str, *, by: str) -> ConnectorKind:
    """The configured store named `name` that connector `by` links to; a
    permanent ConnectorError when there is none or it lists no conversations."""
    connector = Connector.objects.filter(name=name).first()
    if connector is None:
        raise ConnectorError(
            f"connector {by} links to {name}, which does not exist (config.link)",
            permanent=True,
        )
    instance = connector.instance()
    if not instance.lists_conversations:
        raise ConnectorError(
            f"connector {by} links to {name}, whose kind {connector.kind} cannot "
            "list a subject's conversations (config.link)",
            permanent=True,
        )
    return instance
