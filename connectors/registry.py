"""Kind name -> class, imported lazily so one broken kind cannot stop the rest.

Support-SaaS kinds come from the definition files found in
`connectors/kinds/saas/definitions/` (listed without importing anything):
`kind_class("zendesk")` is the SaaS engine's class bound to zendesk.yaml."""

from __future__ import annotations

from pathlib import Path

from django.utils.module_loading import import_string

from connectors.base import ConfigError, ConnectorKind

KINDS: dict[str, str] = {
    "sql": "connectors.kinds.sql.SqlConnector",
    "http": "connectors.kinds.http.HttpConnector",
    "pull": "connectors.kinds.pull.PullConnector",
    "files": "connectors.kinds.files.FilesConnector",
    "manual": "connectors.kinds.manual.ManualConnector",
    "opendsr": "connectors.kinds.opendsr.OpenDsrConnector",
    "pgvector": "connectors.kinds.vectors.pgvector.PgvectorConnector",
    "qdrant": "connectors.kinds.vectors.qdrant.QdrantConnector",
    "weaviate": "connectors.kinds.vectors.weaviate.WeaviateConnector",
    "chroma": "connectors.kinds.vectors.chroma.ChromaConnector",
}
SAAS = "saas:"  # a KINDS value naming a SaaS definition, not a class path
SAAS_DEFINITIONS = Path(__file__).resolve().parent / "kinds" / "saas" / "definitions"
KINDS.update(
    {
        path.stem: f"{SAAS}{path.stem}"
        for path in sorted(SAAS_DEFINITIONS.glob("*.yaml"))
    }
)


def kind_class(kind: str) -> type[ConnectorKind]:
    try:
        path = KINDS[kind]
    except KeyError as exc:
        raise ConfigError(
            f"unknown kind {kind!r}; one of {', '.join(KINDS)}", field="kind"
        ) from exc
    if path.startswith(SAAS):
        from connectors.kinds.saas import kind_for

        return kind_for(path.removeprefix(SAAS))
    cls: type[ConnectorKind] = import_string(path)
    return cls


def kind_available(kind: str) -> type[ConnectorKind] | None:
    """The kind's class, or None when it is not registered or cannot be
    imported (it can do nothing, so nothing may be offered through it)."""
    try:
        return kind_class(kind)
    except Exception:  # a kind that cannot be imported offers nothing
        return None


def kinds_available() -> dict[str, type[ConnectorKind]]:
    """Every registered kind that imports."""
    found = {kind: kind_available(kind) for kind in KINDS}
    return {kind: cls for kind, cls in found.items() if cls is not None}


def kind_choices() -> list[tuple[str, str]]:
    """(kind, label) of every registered kind that imports: what the API,
    the dashboard and the OpenAPI schema offer (a new SaaS definition file
    shows up here with no code or migration)."""
    return [(kind, cls.label) for kind, cls in kinds_available().items()]


def kind_label(kind: str) -> str:
    """A kind's label for people; the bare name if it cannot be imported."""
    cls = kind_available(kind)
    return cls.label if cls is not None else kind
