"""Kind name -> class, imported lazily so one broken kind cannot stop the rest."""

from __future__ import annotations

from django.utils.module_loading import import_string

from connectors.base import ConfigError, ConnectorKind

KINDS: dict[str, str] = {
    "sql": "connectors.kinds.sql.SqlConnector",
    "http": "connectors.kinds.http.HttpConnector",
    "pull": "connectors.kinds.pull.PullConnector",
    "files": "connectors.kinds.files.FilesConnector",
    "manual": "connectors.kinds.manual.ManualConnector",
}


def kind_class(kind: str) -> type[ConnectorKind]:
    try:
        path = KINDS[kind]
    except KeyError as exc:
        raise ConfigError(
            f"unknown kind {kind!r}; one of {', '.join(KINDS)}", field="kind"
        ) from exc
    return import_string(path)
