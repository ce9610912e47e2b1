"""One store reading another while it works: a vector store matches the
conversation ids a helpdesk connector lists for the subject
(`ConnectorKind.conversation_ids`), naming it in its config
(`ConnectorKind.reads_from`). The executor orders their erasures
(dsr.services.execution.running)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import ConnectorError, ConnectorKind
from connectors.models import Connector
from privacydesk.errors import ValidationFailed


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


def links_check(
    kind: type[ConnectorKind], config: Mapping[str, Any], name: str
) -> None:
    """On a connector's write: each store its config reads exists, is not
    itself, and lists conversations; ValidationFailed names config.link."""
    for linked in kind.reads_from(config):
        target = Connector.objects.filter(name=linked).first()
        if linked == name or target is None:
            problem = "itself" if linked == name else "no connector of that name"
            raise ValidationFailed(
                f"{linked!r} is {problem}: name another connector",
                field="config.link",
            )
        if not target.instance().lists_conversations:
            raise ValidationFailed(
                f"{linked!r} is a {target.kind_label} connector, which cannot list "
                "a subject's conversations",
                field="config.link",
            )
