"""Which stores a request's work goes to: one rule, read by the planner (which
creates the tasks), the lifecycle (whether "send to the stores again" has
anything to send) and the request page (what is planned and what is not)."""

from __future__ import annotations

from connectors.choices import Action
from connectors.models import Connector
from dsr.choices import RequestKind
from dsr.models import Request

ACTIONS_FOR_KIND: dict[str, str] = {
    RequestKind.ACCESS: Action.ACCESS,
    RequestKind.PORTABILITY: Action.ACCESS,
    RequestKind.RECTIFICATION: Action.RECTIFY,
    RequestKind.ERASURE: Action.ERASE,
    RequestKind.RESTRICTION: Action.RESTRICT,
    RequestKind.OBJECTION: Action.OBJECT,
}


# Restriction and objection fall back to a human where a store has no flag.
MANUAL_FALLBACK = {Action.RESTRICT, Action.OBJECT}


def stores_enabled() -> list[tuple[Connector, frozenset[str]]]:
    """Every enabled store, with the actions it offers as configured."""
    return [
        (connector, connector.instance().actions)
        for connector in Connector.objects.filter(enabled=True).order_by("name")
    ]


def store_takes(action: str, actions: frozenset[str]) -> bool:
    """Whether a store offering `actions` gets a task for `action`: it does
    it itself, or a person does it there (restriction, objection)."""
    return action in actions or action in MANUAL_FALLBACK


def stores_unplanned(
    request: Request, stores: list[tuple[Connector, frozenset[str]]] | None = None
) -> list[tuple[Connector, bool]]:
    """The enabled stores that would get a task of `request` and have none
    (connected or enabled after it started, or it never was planned), each
    with whether it can do the action itself."""
    action = ACTIONS_FOR_KIND[request.kind]
    planned = set(
        request.tasks.filter(action=action).values_list("connector_id", flat=True)
    )
    return [
        (connector, action in actions)
        for connector, actions in (stores_enabled() if stores is None else stores)
        if store_takes(action, actions) and connector.pk not in planned
    ]
