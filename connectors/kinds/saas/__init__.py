"""The declarative support-SaaS engine: one connector kind per definition
file in `definitions/` (adding a service is adding a file).

- `definition`: load and check a definition (JSON Schema in `schema`).
- `client`: auth, base URL, timeouts, 429/Retry-After, back-off, errors.
- `budget`: the rate-limit budget shared by every worker process.
- `walk`: find the subject by each identifier, list related records, pages.
- `erasure`: delete / redact / mask / keep per record type, and verification.
- `connector`: the ConnectorKind bound to one definition (`kind_for`).
"""

from __future__ import annotations

from functools import cache

from connectors.choices import Action
from connectors.kinds.saas.connector import SaasConnector
from connectors.kinds.saas.definition import definition, services
from connectors.kinds.saas.walk import conversation_types

__all__ = ["SaasConnector", "kind_for", "services"]


@cache
def kind_for(service: str) -> type[SaasConnector]:
    """The connector kind of `service`, a class bound to its definition."""
    bound = definition(service)
    actions = SaasConnector.actions
    if "rectify" not in bound.record(bound.root):
        # nothing to write with (Help Scout): never offered, never planned
        actions = actions - {Action.RECTIFY}
    attributes = {
        "actions": actions,
        "kind": bound.service,
        "label": bound.label,
        "definition": bound,
        "secret_fields": bound.secrets,
        "lists_conversations": bool(conversation_types(bound)),
        "__doc__": f"{bound.label}, driven by definitions/{bound.service}.yaml.",
        "__module__": __name__,
    }
    return type(f"{bound.service.title()}Connector", (SaasConnector,), attributes)
