"""The errors of the connector contract (re-exported by connectors.base)."""

from __future__ import annotations

from privacydesk.errors import ValidationFailed

# What failed, for people (a label on "test connection") and callers that
# sort failures; "" when a kind does not say. The message says it in words.
REASON_AUTH = "auth"  # credentials refused (HTTP 401)
REASON_PERMISSION = "permission"  # a role or scope missing (HTTP 403)
REASON_NETWORK = "network"  # unreachable, TLS, timeout
REASON_RATE_LIMIT = "rate_limit"  # HTTP 429 beyond what waiting could absorb
REASON_NOT_FOUND = "not_found"  # a wrong subdomain or base URL (404, redirect)
REASON_SERVER = "server"  # the service answered 5xx again and again
REASON_REFUSED = "refused"  # another 4xx: the call itself was refused
REASONS = (
    REASON_AUTH,
    REASON_PERMISSION,
    REASON_NETWORK,
    REASON_RATE_LIMIT,
    REASON_NOT_FOUND,
    REASON_SERVER,
    REASON_REFUSED,
)


class ConnectorError(Exception):
    """A connector call failed; `permanent` says whether retrying can help,
    `reason` (one of REASONS, or "") what kind of failure it was."""

    def __init__(
        self, message: str, *, permanent: bool = False, reason: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.reason = reason


class Unsupported(ConnectorError):
    """This kind cannot do what was asked at all (purge, withdraw consent, an
    action it lacks): permanent, and a caller may record it as "unsupported"
    rather than as a failure."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class ConfigError(ValidationFailed):
    """A connector's config is invalid; `field` is the path, e.g.
    `config.tables[2].identity`."""
