"""The one rule for a base URL that connectors call out to: https, plain
http only to this machine (a subject's data never crosses a network
unencrypted), and no credentials or query in it (secrets are kept apart)."""

from __future__ import annotations

from urllib.parse import urlsplit

from connectors.base import ConfigError
from connectors.kinds.http import LOOPBACK_HOSTS


def check_base_url(url: str, *, field: str) -> None:
    """Refuse `url` (ConfigError naming `field`) unless it keeps the rule."""
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ConfigError(
            "must use https (plain http only to this machine)", field=field
        )
    if not parts.hostname or parts.username or parts.password or parts.query:
        raise ConfigError("an absolute URL with no credentials or query", field=field)
