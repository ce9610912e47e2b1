"""The `chroma` kind: records in Chroma collections, on a server by `url`
(chromadb's HttpClient; secret `token`) or embedded on this host by `path`
(chromadb's PersistentClient, opened per action and closed after it).

    {"url": "https://chroma.internal:8000" | "path": "/srv/chroma",
     "tenant": "default_tenant", "database": "default_database",
     "token_header": "Authorization",   # or X-Chroma-Token (Chroma Cloud)
     "collections": [...], "keys": {...}, "link": ...,     # see vectors.base
     "page_size": 256}

A subject's records are found with `collection.get(where=...)`: `$or` of
one `$in` per key (text values, and apart from them their integer forms:
Chroma compares typed values and refuses a list of mixed types), read in
pages by offset, with documents and metadatas (embeddings only to count
their dimensions). `collection.delete(where=...)` deletes records with
their documents and metadata ("cannot be undone"); the base counts again
after it, so the count does not rest on the answer.

An embedded store suits a single host where no other process writes the
folder at the same time (Chroma's embedded mode is not built for several
writers); anything shared runs a Chroma server.

Nothing here embeds: collections are opened with `embedding_function=None`,
so no model is ever loaded or downloaded, and anonymized telemetry is off.
Sources: https://docs.trychroma.com/docs/collections/delete-data ,
https://docs.trychroma.com/docs/querying-collections/metadata-filtering
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from connectors.base import ConfigError, ConnectorError
from connectors.errors import REASON_AUTH, REASON_NETWORK
from connectors.kinds.vectors.base import Match, Point, VectorEngine, VectorStoreKind
from connectors.kinds.vectors.config import (
    clean_server_url,
    clean_url_or_path,
    clean_whole_numbers,
    path_property,
    url_or_path_one_of,
    url_property,
)

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from chromadb.config import Settings

DEFAULT_PAGE_SIZE = 256
MAX_PAGE_SIZE = 10_000
DEFAULT_TENANT = "default_tenant"
DEFAULT_DATABASE = "default_database"
TOKEN_HEADERS = ("Authorization", "X-Chroma-Token")


class ChromaConnector(VectorStoreKind):
    """Records in Chroma collections (a server, or embedded on disk)."""

    kind: ClassVar[str] = "chroma"
    label: ClassVar[str] = "Chroma vector store"
    secret_fields: ClassVar[tuple[str, ...]] = ("token",)
    engine_keys: ClassVar[tuple[str, ...]] = (
        "url",
        "path",
        "tenant",
        "database",
        "token_header",
        "page_size",
    )

    @classmethod
    def engine_config_schema(cls) -> tuple[dict[str, Any], list[str]]:
        name = {"type": "string", "minLength": 1, "maxLength": 200}
        properties = {
            "url": url_property(
                "Server URL",
                "http(s)://host:8000 of a Chroma server (plain http only to "
                "this machine)",
            ),
            "path": path_property("A persistent Chroma folder on this host"),
            "tenant": {**name, "title": "Tenant", "default": DEFAULT_TENANT},
            "database": {**name, "title": "Database", "default": DEFAULT_DATABASE},
            "token_header": {
                "type": "string",
                "title": "Token header",
                "description": "How the token is sent: Authorization (Bearer) "
                "or X-Chroma-Token",
                "enum": list(TOKEN_HEADERS),
            },
            "page_size": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        }
        return properties, []

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        schema = super().config_schema()
        schema["title"] = cls.label
        schema["oneOf"] = url_or_path_one_of()
        return schema

    @classmethod
    def clean_engine_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        cleaned: dict[str, Any] = clean_url_or_path(config, clean_url=_clean_url)
        for key, default in (
            ("tenant", DEFAULT_TENANT),
            ("database", DEFAULT_DATABASE),
        ):
            value = config.get(key, default)
            if not isinstance(value, str) or not 0 < len(value.strip()) <= 200:
                raise ConfigError("must be a name", field=f"config.{key}")
            cleaned[key] = value.strip()
        header = config.get("token_header", TOKEN_HEADERS[0])
        if header not in TOKEN_HEADERS:
            raise ConfigError(
                f"one of {', '.join(TOKEN_HEADERS)}", field="config.token_header"
            )
        cleaned["token_header"] = header
        cleaned.update(
            clean_whole_numbers(
                config, (("page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),)
            )
        )
        return cleaned

    def open_engine(self) -> VectorEngine:
        # chromadb takes seconds to import: only a process that opens a
        # store pays it, not every page listing the kinds
        import chromadb

        config = self.config
        tenant = config.get("tenant", DEFAULT_TENANT)
        database = config.get("database", DEFAULT_DATABASE)
        with _calling("the store"):
            if "path" in config:
                if not Path(config["path"]).is_dir():
                    raise ConnectorError(
                        f"embedded store folder {config['path']} does not exist",
                        permanent=True,
                    )
                client = chromadb.PersistentClient(
                    path=config["path"],
                    settings=_settings(),
                    tenant=tenant,
                    database=database,
                )
            else:
                parts = urlsplit(config["url"])
                https = parts.scheme == "https"
                client = chromadb.HttpClient(
                    host=parts.hostname or "",
                    port=parts.port or (443 if https else 8000),
                    ssl=https,
                    headers=self._auth_headers(),
                    settings=_settings(),
                    tenant=tenant,
                    database=database,
                )
        page_size = config.get("page_size", DEFAULT_PAGE_SIZE)
        return ChromaEngine(client, page_size=page_size)

    def _auth_headers(self) -> dict[str, str]:
        token = self.secrets.get("token", "")
        if not token:
            return {}
        header = self.config.get("token_header", TOKEN_HEADERS[0])
        return {header: f"Bearer {token}" if header == "Authorization" else token}


class ChromaEngine:
    """The engine protocol over one chromadb client."""

    def __init__(self, client: ClientAPI, *, page_size: int):
        self.client = client
        self.page_size = page_size
        self._opened: dict[str, Collection] = {}

    def collections(self) -> list[str]:
        with _calling("the collections"):
            return [c.name for c in self.client.list_collections()]

    def dimensions(self, collection: str) -> dict[str, int]:
        with _calling(collection):
            found = self._collection(collection).get(limit=1, include=["embeddings"])
        embeddings = found.get("embeddings")
        if embeddings is None or len(embeddings) == 0:
            return {}
        return {"": len(embeddings[0])}

    def find(self, collection: str, match: Match) -> Iterator[Point]:
        where = chroma_where(match)
        if where is None:
            return
        offset = 0
        while True:
            with _calling(collection):
                page = self._collection(collection).get(
                    where=where,
                    limit=self.page_size,
                    offset=offset,
                    include=["documents", "metadatas"],
                )
            ids = page["ids"]
            blank: list[Any] = [None] * len(ids)
            documents: list[Any] = list(page.get("documents") or blank)
            metadatas: list[Any] = list(page.get("metadatas") or blank)
            for point_id, document, metadata in zip(
                ids, documents, metadatas, strict=True
            ):
                yield Point(
                    id=str(point_id),
                    document=document if isinstance(document, str) else None,
                    metadata=dict(metadata or {}),
                )
            if len(ids) < self.page_size:
                return
            offset += len(ids)

    def count(self, collection: str, match: Match) -> int:
        where = chroma_where(match)
        if where is None:
            return 0
        counted = offset = 0
        while True:
            with _calling(collection):
                ids = self._collection(collection).get(
                    where=where, limit=self.page_size, offset=offset, include=[]
                )["ids"]
            counted += len(ids)
            if len(ids) < self.page_size:
                return counted
            offset += len(ids)

    def delete(self, collection: str, match: Match) -> int | None:
        where = chroma_where(match)
        if where is None:
            return 0
        with _calling(collection):
            answer: Any = self._collection(collection).delete(where=where)
        # Chroma's REST API answers {} (no count); the 1.x client says
        # {"deleted": n}. The base counts again either way.
        deleted = answer.get("deleted") if isinstance(answer, dict) else None
        return deleted if isinstance(deleted, int) else None

    def close(self) -> None:
        self._opened.clear()
        closing = getattr(self.client, "close", None)
        if callable(closing):
            closing()

    def _collection(self, name: str) -> Collection:
        if name not in self._opened:
            # no embedding function: nothing here embeds, nothing is loaded
            self._opened[name] = self.client.get_collection(
                name, embedding_function=None
            )
        return self._opened[name]


def _clean_url(value: Any) -> str:
    """A server's address only: the client takes its host and port."""
    url = clean_server_url(value)
    if urlsplit(url).path.strip("/"):
        raise ConfigError(
            "the server's address only (scheme, host, port)", field="config.url"
        )
    return url


def chroma_where(match: Match) -> dict[str, Any] | None:
    """`$or` of `$in` per key: its text values, and its integer forms apart
    (Chroma refuses a list of mixed types); None when nothing can match."""
    clauses: list[dict[str, Any]] = []
    for key, values in match.terms:
        if values:
            clauses.append({key: {"$in": list(values)}})
        numbers = Match.numbers(values)
        if numbers:
            clauses.append({key: {"$in": list(numbers)}})
    if len(clauses) < 2:
        return clauses[0] if clauses else None
    return {"$or": clauses}


def _settings() -> Settings:
    """Telemetry off; new for each client, which writes its host into it."""
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False)


@contextmanager
def _calling(what: str) -> Iterator[None]:
    """Chroma's failures as ConnectorErrors naming the collection, not data."""
    from chromadb.errors import (
        AuthorizationError,
        ChromaAuthError,
        ChromaError,
        NotFoundError,
    )

    try:
        yield
    except NotFoundError as error:
        raise ConnectorError(f"chroma: {what} not found", permanent=True) from error
    except (AuthorizationError, ChromaAuthError) as error:
        raise ConnectorError(
            f"chroma refused the token for {what}",
            permanent=True,
            reason=REASON_AUTH,
        ) from error
    except ChromaError as error:
        raise ConnectorError(
            f"chroma failed on {what} ({type(error).__name__})"
        ) from error
    except (OSError, ValueError) as error:  # unreachable server, refused request
        if isinstance(error, ValueError) and "does not exist" in str(error):
            raise ConnectorError(f"chroma: {what} not found", permanent=True) from error
        raise ConnectorError(
            f"chroma unreachable or refused the call on {what} "
            f"({type(error).__name__})",
            reason=REASON_NETWORK,
        ) from error
