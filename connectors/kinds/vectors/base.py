"""What every vector-store kind shares: the config's common part, the match
built from the subject, and access, erasure and verification over a small
engine protocol (one adapter per engine: qdrant, pgvector, chroma, ...).

The common config::

    {"collections": ["support_memory"],
     "keys": {"email": "customer_email",             # metadata key names; at
              "subject_id": "customer_id",           # least one of them
              "conversation_id": "conversation_id",
              "phone": "customer_phone"},
     "subject_id_system": "crm",      # optional: only that system's customer ids
     "link": "helpdesk",              # optional: another connector's name
     "category": "ai_memory"}         # optional

A point belongs to the subject when one of its metadata keys holds one of
the subject's values (an OR over keys, each with its values). The values:

- `email`: each e-mail as the subject gave it, lower-cased, and with only
  its domain lower-cased. Engines match metadata exactly, so a store that
  keeps other capitalisations must normalise them on write.
- `phone`: the phones as the subject gave them; `subject_id`: the customer
  ids (of `subject_id_system` only, when set).
- `conversation_id`: the ids the linked connector lists for the subject
  (`ConnectorKind.conversation_ids`, e.g. the helpdesk's tickets), and the
  conversation ids held by the subject's own points (a conversation's other
  chunks carry no e-mail). A value of digits is also matched as an integer.

Access yields one record per point (its document and metadata, never its
vector) and one summary record per collection holding the subject's points
(their count and the vectors' dimensions). Erasure deletes by that match,
repeats while points still match (an engine may cap one call) up to a
bound, and counts again: what is left is the verification.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from connectors.base import (
    AccessRecord,
    ConnectorError,
    ConnectorKind,
    ErasureReceipt,
    HealthReport,
    Identity,
    Outcome,
)
from connectors.choices import Action
from connectors.kinds.vectors.config import (
    COMMON_KEYS,
    KEY_KINDS,
    clean_common,
    common_schema,
)

SUMMARY_LOCATION = "vector summary"


# -- the engine protocol -----------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """OR over (metadata key, values): a point matches when any key holds
    any of its values. Values are text; `numbers` gives the integer form of
    those that are digits (a conversation id often is stored as a number)."""

    terms: tuple[tuple[str, tuple[str, ...]], ...]

    def is_empty(self) -> bool:
        return not any(values for _, values in self.terms)

    @staticmethod
    def numbers(values: tuple[str, ...]) -> tuple[int, ...]:
        return tuple(int(v) for v in values if v.isdigit() and len(v) < 19)

    def any_of(self) -> Iterator[tuple[str, list[str] | list[int]]]:
        """(key, values) per key, then (key, their integer forms) when some
        are digits: an engine's "match any" conditions, OR-ed."""
        for key, values in self.terms:
            yield key, list(values)
            numbers = Match.numbers(values)
            if numbers:
                yield key, list(numbers)


@dataclass(frozen=True)
class Point:
    """One stored point as an engine gives it: never its vector."""

    id: str
    document: str | None
    metadata: Mapping[str, Any]

    @classmethod
    def from_payload(
        cls, point_id: Any, payload: Mapping[str, Any] | None, document_key: str
    ) -> Point:
        """A Qdrant-style point: its document is one payload key, the rest of
        the payload is its metadata."""
        metadata = dict(payload or {})
        document = metadata.pop(document_key, None)
        return cls(
            id=str(point_id),
            document=document if isinstance(document, str) else None,
            metadata=metadata,
        )


class VectorEngine(Protocol):
    """One open connection to a vector store (closed after each action)."""

    def collections(self) -> list[str]:
        """The names of the collections the store holds."""
        ...

    def dimensions(self, collection: str) -> dict[str, int]:
        """The collection's vector dimensions, by vector name ("" unnamed)."""
        ...

    def find(self, collection: str, match: Match) -> Iterator[Point]:
        """Every matching point, paged by the engine, streamed."""
        ...

    def delete(self, collection: str, match: Match) -> int | None:
        """Delete matching points (at most the engine's per-call cap) and wait
        until done; how many were deleted, or None when the engine does not say."""
        ...

    def count(self, collection: str, match: Match) -> int:
        """How many points match, exactly."""
        ...

    def close(self) -> None: ...


# -- the kind ------------------------------------------------------------------------


class VectorStoreKind(ConnectorKind):
    """A vector store holding embeddings of the subject's conversations.

    A kind supplies `open_engine()` and, for its own config keys,
    `engine_config_schema()` / `clean_engine_config()`."""

    actions = frozenset({Action.ACCESS, Action.ERASE, Action.VERIFY_ERASURE})
    verifies_in_process: ClassVar[bool] = True
    # How often erasure deletes by the match before giving up (an engine
    # capping one call at N points empties N x this many).
    max_delete_rounds: ClassVar[int] = 100
    # The engine's own config keys, beside COMMON_KEYS.
    engine_keys: ClassVar[tuple[str, ...]] = ()

    # -- config ------------------------------------------------------------------
    @classmethod
    def engine_config_schema(cls) -> tuple[dict[str, Any], list[str]]:
        """The engine's own properties and which of them are required."""
        return {}, []

    @classmethod
    def clean_engine_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """The engine's own keys, cleaned; ConfigError names the path."""
        return {}

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        return common_schema(*cls.engine_config_schema())

    @classmethod
    def validate_config(cls, config: Any) -> dict[str, Any]:
        config = super().validate_config(config)
        known = (*COMMON_KEYS, *cls.engine_keys)
        common = clean_common(config, known=known)
        return {**cls.clean_engine_config(config), **common}

    @classmethod
    def reads_from(cls, config: Mapping[str, Any]) -> tuple[str, ...]:
        link = config.get("link")
        return (link,) if isinstance(link, str) and link else ()

    @classmethod
    def erasure_described(cls, config: Mapping[str, Any], location: str) -> str:
        return "points (vectors, documents and metadata) deleted"

    # -- the engine --------------------------------------------------------------
    @abstractmethod
    def open_engine(self) -> VectorEngine:
        """This kind's engine on its configured store (each kind has one)."""

    @contextmanager
    def engine(self) -> Iterator[VectorEngine]:
        """The engine, open for one action and closed after it."""
        engine = self.open_engine()
        try:
            yield engine
        finally:
            engine.close()

    @property
    def collection_names(self) -> list[str]:
        return list(self.config.get("collections", []))

    # -- the match ---------------------------------------------------------------
    def match_for(
        self, identity: Identity, conversation_ids: tuple[str, ...] = ()
    ) -> Match:
        keys: Mapping[str, str] = self.config.get("keys", {})
        values: dict[str, tuple[str, ...]] = {
            "email": email_spellings(identity.emails),
            "phone": _unique(identity.phones),
            "subject_id": _unique(
                identity.values("customer_id", self.config.get("subject_id_system", ""))
            ),
            "conversation_id": _unique(conversation_ids),
        }
        return Match(
            tuple(
                (keys[kind], values[kind])
                for kind in KEY_KINDS
                if kind in keys and values[kind]
            )
        )

    def linked_conversation_ids(self, identity: Identity) -> tuple[str, ...]:
        """The subject's conversation ids as the linked connector lists them."""
        link = self.reads_from(self.config)
        if not link:
            return ()
        from connectors.links import linked_instance

        return tuple(linked_instance(link[0], by=self.name).conversation_ids(identity))

    def subject_match(self, engine: VectorEngine, identity: Identity) -> Match:
        """The match of the subject's identifiers, the linked conversations'
        ids, and the conversation ids its own points hold."""
        linked = self.linked_conversation_ids(identity)
        match = self.match_for(identity, linked)
        key = self.config.get("keys", {}).get("conversation_id")
        if key is None or match.is_empty():
            return match
        held = {
            str(value)
            for collection in self.collection_names
            for point in engine.find(collection, match)
            if isinstance(value := metadata_value(point.metadata, key), str | int)
            and not isinstance(value, bool)
        }
        if held - set(linked):
            return self.match_for(identity, (*linked, *sorted(held)))
        return match

    # -- actions -----------------------------------------------------------------
    def health(self) -> HealthReport:
        with self.engine() as engine:
            present = set(engine.collections())
            missing = [c for c in self.collection_names if c not in present]
            if missing:
                raise ConnectorError(
                    f"collection(s) {', '.join(missing)} not found", permanent=True
                )
        status = f"ok: {len(self.collection_names)} collection(s)"
        for link in self.reads_from(self.config):
            from connectors.links import linked_instance

            linked_instance(link, by=self.name)  # raises if missing or unfit
            status += f", linked to {link}"
        return HealthReport(status)

    def access(self, identity: Identity) -> Iterator[AccessRecord]:
        category = self.config.get("category", "ai_memory")
        with self.engine() as engine:
            match = self.subject_match(engine, identity)
            if match.is_empty():
                return
            for collection in self.collection_names:
                points = 0
                for point in engine.find(collection, match):
                    points += 1
                    yield AccessRecord(
                        location=collection,
                        key=point.id,
                        data={"document": point.document, "metadata": point.metadata},
                        category=category,
                    )
                if points:
                    yield AccessRecord(
                        location=SUMMARY_LOCATION,
                        key=collection,
                        data={
                            "collection": collection,
                            "points": points,
                            "dimensions": engine.dimensions(collection),
                            "vectors": "not included: numbers a model computed "
                            "from the documents above",
                        },
                        category="vector_summary",
                    )

    def erase(self, identity: Identity) -> ErasureReceipt:
        if identity.is_empty():
            raise ConnectorError("no identifiers to erase by", permanent=True)
        receipt = ErasureReceipt(kind=self.kind)
        with self.engine() as engine:
            match = self.subject_match(engine, identity)
            for kind, values in self._known(match).items():
                receipt.known[kind] = values
            if match.is_empty():
                receipt.note = "nothing to match: no key holds the subject's values"
                return receipt
            for collection in self.collection_names:
                found = engine.count(collection, match)
                left = found
                rounds = 0
                while left and rounds < self.max_delete_rounds:
                    engine.delete(collection, match)
                    rounds += 1
                    left = engine.count(collection, match)
                if left:
                    raise ConnectorError(
                        f"{left} point(s) still match in collection {collection} "
                        f"after {rounds} deletion(s)"
                    )
                if found:
                    receipt.add(collection, found=found, changed=found)
        receipt.note = (
            f"{receipt.changed} point(s) deleted in {len(receipt.per_location)} "
            "collection(s)"
        )
        return receipt

    def _known(self, match: Match) -> dict[str, tuple[str, ...]]:
        """The receipt's `known`: the conversation ids matched (the linked
        store may have deleted its tickets by the time of verification)."""
        key = self.config.get("keys", {}).get("conversation_id")
        ids = next((values for name, values in match.terms if name == key), ())
        return {"conversation_ids": ids} if ids else {}

    def verify_erased(
        self, identity: Identity, receipt: ErasureReceipt | None = None
    ) -> Outcome:
        outcome = Outcome()
        known = receipt.knows("conversation_ids") if receipt is not None else ()
        with self.engine() as engine:
            if receipt is None:
                match = self.subject_match(engine, identity)
            else:  # the link may be gone: the erasure's ids stand for it
                match = self.match_for(identity, known)
            if match.is_empty():
                return outcome
            for collection in self.collection_names:
                left = engine.count(collection, match)
                if left:
                    outcome.add(collection, found=left)
        if outcome.found:
            outcome.note = (
                f"{outcome.found} point(s) in {len(outcome.per_location)} "
                "collection(s) still match the subject"
            )
        return outcome


# -- helpers -------------------------------------------------------------------------


def metadata_value(metadata: Mapping[str, Any], key: str) -> Any:
    """The value at `key`, a flat key or a dotted path (`metadata.email`)."""
    if key in metadata:
        return metadata[key]
    node: Any = metadata
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def email_spellings(emails: tuple[str, ...]) -> tuple[str, ...]:
    """Each e-mail as given, lower-cased, and with only its domain lower-cased."""
    spellings: list[str] = []
    for email in emails:
        local, at, domain = email.rpartition("@")
        spellings += [email, email.lower()]
        if at:
            spellings.append(f"{local}@{domain.lower()}")
    return _unique(spellings)


def _unique(values: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(v) for v in values if str(v)))
