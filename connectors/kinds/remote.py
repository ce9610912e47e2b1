"""What kinds whose remote side does the work share (`http`, `pull`): the
optional `actions` list in their config, saying which actions that side
supports."""

from __future__ import annotations

from typing import Any

from connectors.base import ConfigError
from connectors.choices import Action

ALL_ACTIONS = frozenset(Action.values)
ACTIONS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "The actions the remote side supports (default: all).",
    "minItems": 1,
    "items": {"enum": sorted(ALL_ACTIONS)},
}


def clean_actions(config: dict[str, Any]) -> list[str] | None:
    """The optional `actions` list, checked; None means every action."""
    if "actions" not in config:
        return None
    actions = config["actions"]
    if not isinstance(actions, list) or not actions:
        raise ConfigError("must be a non-empty list", field="config.actions")
    for index, action in enumerate(actions):
        if action not in ALL_ACTIONS:
            raise ConfigError(
                f"must be one of {', '.join(sorted(ALL_ACTIONS))}",
                field=f"config.actions[{index}]",
            )
    return sorted(set(actions))


def actions_from_config(config: Any) -> frozenset[str]:
    """The actions an instance offers; lenient, since the planner asks every
    connector and one stored bad config must not stop the rest."""
    listed = config.get("actions") if isinstance(config, dict) else None
    if not isinstance(listed, list):
        return ALL_ACTIONS
    return frozenset(a for a in listed if a in ALL_ACTIONS)
