"""The errors of the connector contract (re-exported by connectors.base)."""

from __future__ import annotations

from privacydesk.errors import ValidationFailed


class ConnectorError(Exception):
    """A connector call failed; `permanent` says whether retrying can help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class Unsupported(ConnectorError):
    """This kind cannot do what was asked at all (purge, withdraw consent, an
    action it lacks): permanent, and a caller may record it as "unsupported"
    rather than as a failure."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class ConfigError(ValidationFailed):
    """A connector's config is invalid; `field` is the path, e.g.
    `config.tables[2].identity`."""
