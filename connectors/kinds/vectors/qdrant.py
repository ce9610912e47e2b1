"""The `qdrant` kind: a Qdrant server by `url` (secret `api_key`), or an
embedded on-disk store by `path` (qdrant-client's local mode, for a
single-host install; it locks its folder, so it is opened per action and
closed after it). With `"engine": "edge"` the `path` is a folder of Qdrant
Edge shards, one per collection, read by Qdrant's own engine in process
(vectors.qdrant_edge).

    {"url": "https://qdrant.internal:6333" | "path": "/srv/qdrant",
     "engine": "client" | "edge",  # edge: only with path
     "collections": [...], "keys": {...}, "link": ...,      # see vectors.base
     "document_key": "document",   # the payload key holding the text
     "page_size": 256, "timeout_seconds": 30}

Metadata keys may be nested payload paths (`metadata.email`, as LangChain
writes them). A subject's points are found by a `should` filter of
FieldConditions with MatchAny (one per key, plus the integer forms of digit
values), read with scroll pages, and deleted with a filter selector and
`wait=true`, so a count right after sees the deletion.
Sources: https://api.qdrant.tech/api-reference/points/delete-points ,
https://api.qdrant.tech/api-reference/points/scroll-points
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from connectors.base import ConfigError, ConnectorError
from connectors.kinds.vectors.base import Match, Point, VectorEngine, VectorStoreKind
from connectors.kinds.vectors.config import (
    clean_document_key,
    clean_url_or_path,
    clean_whole_numbers,
    document_key_property,
    path_property,
    url_or_path_one_of,
    url_property,
)
from connectors.kinds.vectors.qdrant_edge import EdgeEngine

DEFAULT_PAGE_SIZE = 256
MAX_PAGE_SIZE = 10_000
ENGINES = ("client", "edge")  # qdrant-client (server or local mode), Qdrant Edge


class QdrantConnector(VectorStoreKind):
    """Points in Qdrant collections (a server, or embedded on disk)."""

    kind: ClassVar[str] = "qdrant"
    label: ClassVar[str] = "Qdrant vector store"
    secret_fields: ClassVar[tuple[str, ...]] = ("api_key",)
    engine_keys: ClassVar[tuple[str, ...]] = (
        "url",
        "path",
        "engine",
        "document_key",
        "page_size",
        "timeout_seconds",
    )

    @classmethod
    def engine_config_schema(cls) -> tuple[dict[str, Any], list[str]]:
        properties = {
            "url": url_property("Server URL", "http(s)://host:6333 of a Qdrant server"),
            "path": path_property("An on-disk local store on this host (single host)"),
            "engine": {
                "type": "string",
                "title": "Engine",
                "description": "client: qdrant-client (a server, or local mode "
                "on path); edge: Qdrant Edge shards in path, one folder per "
                "collection",
                "enum": list(ENGINES),
                "default": "client",
            },
            "document_key": document_key_property(
                "Document key", "The payload key holding the document text"
            ),
            "page_size": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 600},
        }
        return properties, []

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        schema = super().config_schema()
        schema["oneOf"] = url_or_path_one_of()
        # the edge engine runs in this process: only on a path
        edge = {"engine": {"const": "edge"}}
        schema["if"] = {"required": ["engine"], "properties": edge}
        schema["then"] = {"required": ["path"]}
        return schema

    @classmethod
    def clean_engine_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        engine = config.get("engine", "client")
        if engine not in ENGINES:
            raise ConfigError(
                f"must be one of {', '.join(ENGINES)}", field="config.engine"
            )
        where = clean_url_or_path(config, clean_url=_clean_url)
        if engine == "edge" and "path" not in where:
            raise ConfigError(
                "the edge engine runs in this process: give path (a folder of "
                "Edge shards), not url",
                field="config.engine",
            )
        return {
            **where,
            **({"engine": engine} if engine != "client" else {}),
            "document_key": clean_document_key(
                config, default="document", what="a payload key"
            ),
            **clean_whole_numbers(
                config,
                (
                    ("page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
                    ("timeout_seconds", 30, 600),
                ),
            ),
        }

    def open_engine(self) -> VectorEngine:
        config = self.config
        if "path" in config:
            if not Path(config["path"]).is_dir():
                raise ConnectorError(
                    f"embedded store folder {config['path']} does not exist",
                    permanent=True,
                )
            if config.get("engine") == "edge":
                return EdgeEngine(
                    Path(config["path"]),
                    document_key=config.get("document_key", "document"),
                    page_size=config.get("page_size", DEFAULT_PAGE_SIZE),
                    index_keys=tuple(config["keys"].values()),
                )
            in_use = ConnectorError(
                f"embedded store {config['path']} is in use; retrying later"
            )
            if _folder_locked(Path(config["path"])):
                raise in_use
            try:
                client = QdrantClient(path=config["path"])
            except RuntimeError as error:  # taken between our look and its own
                raise in_use from error
        else:
            client = QdrantClient(
                url=config["url"],
                api_key=self.secrets.get("api_key") or None,
                timeout=config.get("timeout_seconds", 30),
                check_compatibility=False,
            )
        return QdrantEngine(
            client,
            document_key=config.get("document_key", "document"),
            page_size=config.get("page_size", DEFAULT_PAGE_SIZE),
        )


class QdrantEngine:
    """The engine protocol over one qdrant-client."""

    def __init__(self, client: QdrantClient, *, document_key: str, page_size: int):
        self.client = client
        self.document_key = document_key
        self.page_size = page_size

    def collections(self) -> list[str]:
        with _calling("the collections"):
            return [c.name for c in self.client.get_collections().collections]

    def dimensions(self, collection: str) -> dict[str, int]:
        with _calling(collection):
            vectors = self.client.get_collection(collection).config.params.vectors
        if isinstance(vectors, models.VectorParams):
            return {"": vectors.size}
        return {name: params.size for name, params in (vectors or {}).items()}

    def find(self, collection: str, match: Match) -> Iterator[Point]:
        selector = points_filter(match)
        offset: Any = None
        while True:
            with _calling(collection):
                records, offset = self.client.scroll(
                    collection,
                    scroll_filter=selector,
                    limit=self.page_size,
                    offset=offset,
                    with_payload=True,
                    with_vectors=False,
                )
            for record in records:
                yield Point.from_payload(record.id, record.payload, self.document_key)
            if offset is None:
                return

    def delete(self, collection: str, match: Match) -> int | None:
        with _calling(collection):
            self.client.delete(
                collection,
                points_selector=models.FilterSelector(filter=points_filter(match)),
                wait=True,
            )
        return None  # Qdrant answers with an operation id, not a count

    def count(self, collection: str, match: Match) -> int:
        with _calling(collection):
            return self.client.count(
                collection, count_filter=points_filter(match), exact=True
            ).count

    def close(self) -> None:
        self.client.close()


def _clean_url(url: Any) -> str:
    """An http(s) URL without credentials (the api_key is a secret)."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("must be an http(s) URL", field="config.url")
    if parts.username or parts.password:
        raise ConfigError(
            "no credentials in the URL: the api_key is a secret", field="config.url"
        )
    return str(url).rstrip("/")


def points_filter(match: Match) -> models.Filter:
    """`should` (any of) one MatchAny per key, and per key its integer forms."""
    should: list[models.Condition] = [
        models.FieldCondition(key=key, match=models.MatchAny(any=values))
        for key, values in match.any_of()
    ]
    return models.Filter(should=should)


@contextmanager
def _calling(what: str) -> Iterator[None]:
    """Qdrant's failures as ConnectorErrors naming the collection, not data."""
    try:
        yield
    except UnexpectedResponse as error:
        code = error.status_code
        if code == 404:
            raise ConnectorError(f"qdrant: {what} not found", permanent=True) from error
        if code in (401, 403):
            raise ConnectorError(
                f"qdrant refused the api_key ({code})", permanent=True
            ) from error
        raise ConnectorError(f"qdrant answered {code} for {what}") from error
    except ResponseHandlingException as error:  # connection refused, timeout
        raise ConnectorError(f"qdrant unreachable ({what})") from error
    except ValueError as error:  # local mode: "Collection x not found"
        if "not found" in str(error):
            raise ConnectorError(f"qdrant: {what} not found", permanent=True) from error
        raise


def _folder_locked(folder: Path) -> bool:
    """Whether another client holds the embedded store's folder. Asked
    before qdrant-client is, because its own refusal leaves its lock file
    open (a file handle leaked per retry until garbage collection). The
    lock is the flock qdrant-client takes (portalocker) on `<folder>/.lock`."""
    lock = folder / ".lock"
    if not lock.exists():
        return False
    with lock.open("r+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False
