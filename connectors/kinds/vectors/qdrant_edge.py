"""The engine protocol on Qdrant Edge (qdrant-edge-py): Qdrant's own engine
embedded in the worker's process, for the `qdrant` kind with
`"engine": "edge"`.

An Edge shard is one collection in its own folder, so the store's `path` is
a folder holding one shard folder per collection (`<path>/<collection>/`,
each with the `edge_config.json` Edge writes when it creates a shard). A
shard locks its folder (its write-ahead log) while it is open: shards are
loaded on first use in an action and closed after it, and a shard another
process holds is a transient error (the task retries).

On loading a shard the engine creates a keyword payload index on each of
the kind's metadata keys that has none yet (once: the shard keeps it), so
the match is an index lookup, not a scan of every point. Reads are `scroll`
pages of a `should` filter of `MatchAny` conditions without vectors;
deletion is `delete_points_by_filter`, applied before `update` returns.
Deleted points stay in the segment files until Edge's optimizer vacuums
them (`EdgeShard.optimize`), as on a Qdrant server.
Sources: https://qdrant.tech/documentation/edge/edge-api/shard-lifecycle/ ,
https://qdrant.tech/documentation/edge/edge-api/reading-data/ ,
https://qdrant.tech/documentation/edge/edge-api/updating-data/
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import qdrant_edge as edge

from connectors.base import ConnectorError
from connectors.kinds.vectors.base import Match, Point

CONFIG_FILE = "edge_config.json"  # written by EdgeShard.create in each shard


class EdgeEngine:
    """The engine protocol over the Edge shards in one folder."""

    def __init__(
        self,
        folder: Path,
        *,
        document_key: str,
        page_size: int,
        index_keys: tuple[str, ...] = (),
    ) -> None:
        self.folder = folder
        self.document_key = document_key
        self.page_size = page_size
        self.index_keys = index_keys
        self.shards: dict[str, edge.EdgeShard] = {}

    def collections(self) -> list[str]:
        return sorted(
            child.name
            for child in self.folder.iterdir()
            if (child / CONFIG_FILE).is_file()
        )

    def dimensions(self, collection: str) -> dict[str, int]:
        config = self._config_file(collection)
        try:
            vectors = json.loads(config.read_text())["vectors"]
            return {name: int(params["size"]) for name, params in vectors.items()}
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ConnectorError(
                f"qdrant edge: unreadable configuration of {collection}"
            ) from error

    def find(self, collection: str, match: Match) -> Iterator[Point]:
        shard = self._shard(collection)
        selector = edge_filter(match)
        offset: Any = None
        while True:
            with _calling(collection):
                records, offset = shard.scroll(
                    edge.ScrollRequest(
                        offset=offset,
                        limit=self.page_size,
                        filter=selector,
                        with_payload=True,
                        with_vector=False,
                    )
                )
            for record in records:
                yield Point.from_payload(record.id, record.payload, self.document_key)
            if offset is None:
                return

    def delete(self, collection: str, match: Match) -> int | None:
        shard = self._shard(collection)
        with _calling(collection):
            shard.update(
                edge.UpdateOperation.delete_points_by_filter(edge_filter(match))
            )
        return None  # Edge's update answers nothing, not a count

    def count(self, collection: str, match: Match) -> int:
        shard = self._shard(collection)
        with _calling(collection):
            return shard.count(edge.CountRequest(exact=True, filter=edge_filter(match)))

    def close(self) -> None:
        shards, self.shards = self.shards, {}
        for collection, shard in shards.items():
            with _calling(collection):
                shard.close()

    # -- shards --------------------------------------------------------------
    def _config_file(self, collection: str) -> Path:
        config = self.folder / collection / CONFIG_FILE
        if not config.is_file():
            raise ConnectorError(
                f"qdrant edge: collection {collection} not found", permanent=True
            )
        return config

    def _shard(self, collection: str) -> edge.EdgeShard:
        """The collection's shard, loaded on first use and indexed on the keys."""
        shard = self.shards.get(collection)
        if shard is not None:
            return shard
        folder = self._config_file(collection).parent
        with _calling(collection):
            shard = edge.EdgeShard.load(str(folder))
        self.shards[collection] = shard
        with _calling(collection):
            indexed = set(shard.info().payload_schema)
            for key in self.index_keys:
                if key not in indexed:
                    shard.update(
                        edge.UpdateOperation.create_field_index(
                            key, edge.PayloadSchemaType.Keyword
                        )
                    )
        return shard


def edge_filter(match: Match) -> edge.Filter:
    """`should` (any of) one MatchAny per key, and per key its integer forms."""
    return edge.Filter(
        should=[
            edge.FieldCondition(key=key, match=edge.MatchAny(values))
            for key, values in match.any_of()
        ]
    )


@contextmanager
def _calling(collection: str) -> Iterator[None]:
    """Edge's failures (it raises a bare Exception with the engine's text) as
    ConnectorErrors naming the collection only: the text may quote values."""
    try:
        yield
    except ConnectorError:
        raise
    except Exception as error:  # qdrant-edge raises only Exception
        if "WouldBlock" in str(error):  # another process holds the shard's lock
            raise ConnectorError(
                f"qdrant edge: collection {collection} is in use; retrying later"
            ) from error
        raise ConnectorError(f"qdrant edge failed on {collection}") from error
