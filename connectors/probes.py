"""Test connection: a kind's `health()` asked now, its answer as a `Probe`.

`connector_probe` asks with values typed into a form before anything is
saved (nothing is written, not even an audit event: nothing changed);
`connectors.services.connector_test_connection` asks a stored connector and
records the answer. A probe's detail is the kind's message, which names
locations and statuses, never a secret (the message of a ConfigError about
a secret names its path only).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from accounts.actors import Actor
from accounts.permissions import Perm
from connectors.base import ConfigError, ConnectorError, ConnectorKind
from connectors.models import Connector
from connectors.registry import kind_class
from privacydesk.errors import ValidationFailed

logger = logging.getLogger(__name__)

MAX_DETAIL = 300
REASON_CONFIG = "config"  # the values typed are not a valid config
REASON_UNEXPECTED = "unexpected"  # a kind's bug or a driver's error


@dataclass(frozen=True)
class Probe:
    """A health check's answer: ok or not, in words, and what failed."""

    ok: bool
    detail: str
    # connectors.errors.REASONS, REASON_CONFIG, REASON_UNEXPECTED or "".
    reason: str = ""
    warnings: list[dict[str, str]] = field(default_factory=list)
    # The path of a config or secret error (`config.subdomain`), else "".
    field: str = ""


def probe_health(instance: ConnectorKind, *, log_id: Any = None) -> Probe:
    """Ask `instance` now; a failing check is an answer, not an error."""
    try:
        report = instance.health()
    except ConnectorError as error:
        return Probe(False, error.message[:MAX_DETAIL], reason=error.reason)
    except ConfigError as error:
        return Probe(
            False,
            error.message[:MAX_DETAIL],
            reason=REASON_CONFIG,
            field=error.field or "",
        )
    except Exception as error:  # a kind's bug or a driver error: name it only
        logger.warning(
            "health check of connector %s raised %s",
            log_id if log_id is not None else instance.name,
            type(error).__name__,
        )
        return Probe(
            False, f"unexpected {type(error).__name__}", reason=REASON_UNEXPECTED
        )
    return Probe(
        True,
        (report.status or "ok")[:MAX_DETAIL],
        warnings=[warning.to_json() for warning in report.warnings],
    )


def connector_probe(
    *,
    actor: Actor,
    kind: str,
    config: Any,
    secrets: Mapping[str, Any] | None = None,
    connector: Connector | None = None,
    name: str = "",
) -> Probe:
    """Test connection with unsaved values: the kind checks `config` and the
    secrets (for an existing `connector`, a secret left out is the stored
    one), then its health() runs. Nothing is written."""
    actor.require(Perm.CONNECTORS_MANAGE)
    try:
        cls = kind_class(kind)
        cleaned_config = cls.validate_config(config)
        given = {k: v for k, v in (secrets or {}).items() if v not in (None, "")}
        stored = dict(connector.secrets or {}) if connector is not None else {}
        cleaned_secrets = cls.validate_secrets({**stored, **given})
    except ValidationFailed as error:
        return Probe(
            False,
            error.message[:MAX_DETAIL],
            reason=REASON_CONFIG,
            field=error.field or "",
        )
    try:
        instance = cls(
            name=name or (connector.name if connector else "new"),
            config=cleaned_config,
            secrets=cleaned_secrets,
        )
    except ConnectorError as error:
        return Probe(False, error.message[:MAX_DETAIL], reason=error.reason)
    return probe_health(instance)
