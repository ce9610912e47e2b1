"""The `weaviate` kind: objects in Weaviate collections, by its REST API v1
(secret `api_key`, sent as `Authorization: Bearer`).

    {"url": "https://memory.weaviate.cloud",
     "collections": ["SupportMemory"], "keys": {...}, "link": ...,  # vectors.base
     "document_key": "text",          # the property holding the text
     "rate_limit_per_minute": 600, "timeout_seconds": 30, "page_size": 100}

Only REST calls: Weaviate deprecated its GraphQL API on 2026-10-26 and
switches it off on Weaviate Cloud clusters (new ones have none), so:

- a subject's objects are named by `DELETE /v1/batch/objects` with
  `dryRun: true` (`output: verbose` lists their ids, `minimal` counts them)
  and read one by one (`GET /v1/objects/{collection}/{id}`);
- they are deleted by the same call without `dryRun`. One call handles at
  most QUERY_MAXIMUM_RESULTS objects (`results.limit`, 10,000 by default;
  "to delete more objects than the limit, re-run the query"), so the base
  repeats it until nothing matches;
- when a dry run reaches that limit it may have left some out: the objects
  are then found by listing the whole collection with the `after` cursor
  (`GET /v1/objects?class=&after=`) and matching here, as Weaviate would.

The filter is an `Or` of `ContainsAny` per key (text values; integer forms
for an `int` property). Text is matched by tokens: a key property must be
tokenized `field` (the whole value), `whitespace` or `lowercase`; with
`word` an e-mail would match anyone sharing its parts (`example`, `com`),
so such a key is refused before anything is deleted. A key the collection
lacks is left out of its filter.

Calls go through the SaaS engine's client (connectors.kinds.saas.client):
the shared rate budget, 429 with Retry-After, 5xx retried with back-off,
errors naming the call and never a value.
Sources: https://docs.weaviate.io/weaviate/manage-data/delete ,
https://docs.weaviate.io/weaviate/api/rest (objects, batch, schema),
https://docs.weaviate.io/weaviate/api/graphql/migration
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from connectors.base import ConfigError, ConnectorError, HealthReport, HealthWarning
from connectors.kinds.saas.budget import Budget
from connectors.kinds.saas.client import Client
from connectors.kinds.vectors.base import VectorEngine, VectorStoreKind
from connectors.kinds.vectors.config import (
    clean_document_key,
    clean_server_url,
    clean_whole_numbers,
    document_key_property,
    url_property,
)
from connectors.kinds.vectors.weaviate_rest import WeaviateEngine

DEFAULT_PER_MINUTE = 600
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 10_000
DEFAULT_TIMEOUT_SECONDS = 30
_COLLECTION = re.compile(r"[A-Z][A-Za-z0-9_]{0,199}")


class WeaviateConnector(VectorStoreKind):
    """Objects in Weaviate collections, reached by its REST API."""

    kind: ClassVar[str] = "weaviate"
    label: ClassVar[str] = "Weaviate vector store"
    secret_fields: ClassVar[tuple[str, ...]] = ("api_key",)
    engine_keys: ClassVar[tuple[str, ...]] = (
        "url",
        "document_key",
        "rate_limit_per_minute",
        "timeout_seconds",
        "page_size",
    )

    @classmethod
    def engine_config_schema(cls) -> tuple[dict[str, Any], list[str]]:
        properties = {
            "url": url_property(
                "Weaviate URL",
                "https://host of the cluster (plain http only to this machine)",
            ),
            "document_key": document_key_property(
                "Document property", "The property holding the text (LangChain: text)"
            ),
            "rate_limit_per_minute": {
                "type": "integer",
                "minimum": 1,
                "maximum": 100_000,
                "description": "Calls a minute every worker shares",
            },
            "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 600},
            "page_size": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_PAGE_SIZE,
                "description": "Objects a page when a collection is listed",
            },
        }
        return properties, ["url"]

    @classmethod
    def clean_engine_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": clean_server_url(config.get("url")),
            "document_key": clean_document_key(
                config, default="text", what="a property name"
            ),
            **clean_whole_numbers(
                config,
                (
                    ("rate_limit_per_minute", DEFAULT_PER_MINUTE, 100_000),
                    ("timeout_seconds", DEFAULT_TIMEOUT_SECONDS, 600),
                    ("page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
                ),
            ),
        }

    @classmethod
    def validate_config(cls, config: Any) -> dict[str, Any]:
        cleaned = super().validate_config(config)
        for index, name in enumerate(cleaned["collections"]):
            if not _COLLECTION.fullmatch(name):
                raise ConfigError(
                    "a Weaviate collection name starts with a capital letter, "
                    "then letters, digits or _",
                    field=f"config.collections[{index}]",
                )
        return cleaned

    @classmethod
    def validate_secrets(cls, secrets: Any) -> dict[str, str]:
        cleaned = super().validate_secrets(secrets)
        if not cleaned.get("api_key"):
            raise ConfigError(
                "the cluster's API key is required", field="secrets.api_key"
            )
        return cleaned

    def health(self) -> HealthReport:
        """The base's check that the collections exist, then each key
        property's type and tokenization (refused as erasure would refuse
        it); a key a collection lacks is a warning."""
        report = super().health()
        warnings: list[HealthWarning] = []
        with self.engine() as engine:
            assert isinstance(engine, WeaviateEngine)
            for collection in self.collection_names:
                absent = [
                    key
                    for key in self.config["keys"].values()
                    if not engine.key_kind(collection, key)
                ]
                if absent:
                    warnings.append(
                        HealthWarning(
                            f"collection {collection} has no property "
                            f"{', '.join(absent)}: its objects are not matched "
                            "by it",
                            fix="check config.keys against the collection",
                        )
                    )
        return HealthReport(report.status, (*report.warnings, *warnings))

    def open_engine(self) -> VectorEngine:
        key = self.secrets.get("api_key", "")
        if not key:
            raise ConnectorError(
                f"weaviate connector {self.name} has no api_key", permanent=True
            )
        config = self.config
        client = Client(
            name=self.name,
            base_url=config["url"],
            auth_header=f"Bearer {key}",
            budget=Budget(
                f"weaviate:{self.name}",
                per_minute=config.get("rate_limit_per_minute", DEFAULT_PER_MINUTE),
            ),
            timeout=config.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS),
        )
        return WeaviateEngine(
            client,
            document_key=config.get("document_key", "text"),
            page_size=config.get("page_size", DEFAULT_PAGE_SIZE),
        )
