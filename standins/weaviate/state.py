"""What a Weaviate stand-in holds: collections (classes) with typed, tokenized
properties, objects with a vector each, and the rules the REST v1 calls
follow (docs.weaviate.io, "Delete objects", "Conditional filters", REST
`/v1/objects`):

- objects are listed in ascending UUID order; `after` is a cursor (an id);
- a `where` filter is `And`/`Or` over operands, or one condition
  (`path`, `operator` Equal / NotEqual / ContainsAny, `valueText`,
  `valueTextArray`, `valueInt`, `valueIntArray`); text is compared by
  tokens, as the property's tokenization cuts them (`field`: the whole
  value; `whitespace`; `lowercase`: lower-cased, then by whitespace;
  `word`: lower-cased, by anything not a letter or digit), so a `word`
  property matches an e-mail by its parts;
- a batch delete handles at most `query_maximum_results` objects a call
  (QUERY_MAXIMUM_RESULTS): `results.matches` counts those, and "to delete
  more objects than the limit, re-run the query".

Seeded from the demo generator: support-chat chunks whose text names the
customer (e-mail, phone, order numbers), some of them without the e-mail
key, only the conversation's id."""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from connectors.demo.content import (
    AGENT_REPLIES,
    BOT_LINES,
    CUSTOMER_OPENERS,
    USER_LINES,
    fill_template,
)
from connectors.demo.content import customer as demo_customer
from standins.holdings import Holdings

DEFAULT_QUERY_MAXIMUM_RESULTS = 10_000
DEFAULT_LIST_LIMIT = 25
TOKENIZATIONS = ("field", "whitespace", "lowercase", "word")
MEMORY = "SupportMemory"  # the seeded collections
SUMMARY = "TicketSummary"
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


class FilterError(ValueError):
    """A `where` filter the collection cannot run (HTTP 422)."""


def tokens(value: str, tokenization: str) -> set[str]:
    """The tokens Weaviate indexes for a text value."""
    if tokenization == "field":
        return {value.strip()} if value.strip() else set()
    if tokenization == "whitespace":
        return set(value.split())
    if tokenization == "lowercase":
        return set(value.lower().split())
    return {part for part in _NOT_WORD.split(value.lower()) if part}


@dataclass
class Store(Holdings):
    """Every collection and object; every method takes the lock."""

    classes: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    query_maximum_results: int = DEFAULT_QUERY_MAXIMUM_RESULTS
    deleted: int = 0  # objects a batch delete removed, all calls
    delete_calls: int = 0  # batch deletes that removed something
    _rng: random.Random = field(default_factory=lambda: random.Random(2026))

    # -- building ------------------------------------------------------------
    @classmethod
    def seeded(
        cls,
        customers: int = 12,
        *,
        chunks_each: int = 4,
        dimensions: int = 8,
        seed: int = 2026,
        query_maximum_results: int = DEFAULT_QUERY_MAXIMUM_RESULTS,
    ) -> Store:
        """Two collections: `SupportMemory` (chat chunks keyed by the
        customer's e-mail, id and conversation; the e-mail is missing on
        the bot's chunks) and `TicketSummary` (one summary per
        conversation, keyed by an e-mail in capitals, tokenized `lowercase`,
        and an integer conversation id)."""
        store = cls(query_maximum_results=query_maximum_results)
        store._rng = random.Random(seed)
        store.add_class(
            MEMORY,
            {
                "text": ("text", "word"),
                "customer_email": ("text", "field"),
                "customer_id": ("text", "field"),
                "conversation_id": ("text", "field"),
                "speaker": ("text", "word"),
            },
        )
        store.add_class(
            SUMMARY,
            {
                "text": ("text", "word"),
                "customer_email": ("text", "lowercase"),
                "conversation_id": ("int", ""),
            },
        )
        rng = random.Random(seed)
        lines = (CUSTOMER_OPENERS, AGENT_REPLIES, USER_LINES, BOT_LINES)
        for number in range(1, customers + 1):
            person = demo_customer(number, seed=seed)
            conversation = 70_000 + number
            for chunk in range(chunks_each):
                speaker = ("customer", "agent", "customer", "bot")[chunk % 4]
                properties: dict[str, Any] = {
                    "text": fill_template(rng, rng.choice(lines[chunk % 4]), person),
                    "customer_id": person.crm_id,
                    "conversation_id": str(conversation),
                    "speaker": speaker,
                }
                if speaker != "bot":  # the bot's turns carry no e-mail
                    properties["customer_email"] = person.email
                store.add(MEMORY, properties, store.vector(dimensions))
            store.add(
                SUMMARY,
                {
                    "text": f"{person.name} asked about an order; resolved.",
                    "customer_email": person.email.upper(),
                    "conversation_id": conversation,
                },
                store.vector(dimensions),
            )
        return store

    def add_class(self, name: str, properties: dict[str, tuple[str, str]]) -> None:
        """A collection with `properties`: name -> (dataType, tokenization)."""
        with self.lock:
            self.classes[name] = {
                "class": name,
                "vectorizer": "none",
                "properties": [
                    {"name": prop, "dataType": [kind]}
                    | ({"tokenization": tokenization} if tokenization else {})
                    for prop, (kind, tokenization) in properties.items()
                ],
            }
            self.objects.setdefault(name, {})

    def vector(self, dimensions: int) -> list[float]:
        with self.lock:
            return [round(self._rng.uniform(-1, 1), 4) for _ in range(dimensions)]

    def add(
        self, class_name: str, properties: dict[str, Any], vector: list[float]
    ) -> str:
        with self.lock:
            object_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            stamp = _EPOCH_MS + len(self.objects[class_name]) * 1000
            self.objects[class_name][object_id] = {
                "class": class_name,
                "id": object_id,
                "properties": dict(properties),
                "vector": list(vector),
                "creationTimeUnix": stamp,
                "lastUpdateTimeUnix": stamp,
            }
            return object_id

    # -- reads -----------------------------------------------------------------
    def listing(
        self, class_name: str, *, limit: int, after: str = ""
    ) -> list[dict[str, Any]]:
        """A page of objects in ascending id order, after the id `after`."""
        with self.lock:
            ids = sorted(i for i in self.objects.get(class_name, {}) if i > after)
            return [self.objects[class_name][i] for i in ids[:limit]]

    def get(self, class_name: str, object_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self.objects.get(class_name, {}).get(object_id)

    def matching(self, class_name: str, where: Any) -> list[str]:
        """The ids of the objects `where` matches, ascending."""
        with self.lock:
            props = self._properties(class_name)
            return sorted(
                object_id
                for object_id, obj in self.objects[class_name].items()
                if _holds(where, obj, props, class_name)
            )

    def count(self, class_name: str, where: Any) -> int:
        return len(self.matching(class_name, where))

    def summary(self) -> Any:
        with self.lock:
            return {
                "objects": {name: len(held) for name, held in self.objects.items()},
                "deleted": self.deleted,
                "query_maximum_results": self.query_maximum_results,
            }

    # -- writes ----------------------------------------------------------------
    def batch_delete(
        self, class_name: str, where: Any, *, dry_run: bool, verbose: bool
    ) -> dict[str, Any]:
        """At most `query_maximum_results` of the matching objects, deleted
        (or only listed on a dry run): the `results` of the answer."""
        with self.lock:
            chosen = self.matching(class_name, where)[: self.query_maximum_results]
            if not dry_run:
                for object_id in chosen:
                    del self.objects[class_name][object_id]
                self.deleted += len(chosen)
                self.delete_calls += bool(chosen)
            results: dict[str, Any] = {
                "matches": len(chosen),
                "limit": self.query_maximum_results,
                "successful": 0 if dry_run else len(chosen),
                "failed": 0,
            }
            if verbose:
                status = "DRYRUN" if dry_run else "SUCCESS"
                results["objects"] = [
                    {"id": object_id, "status": status} for object_id in chosen
                ]
            return results

    def _properties(self, class_name: str) -> dict[str, dict[str, Any]]:
        if class_name not in self.classes:
            raise FilterError(f"class {class_name!r} not found in the schema")
        return {p["name"]: p for p in self.classes[class_name]["properties"]}


def _holds(
    where: Any, obj: dict[str, Any], props: dict[str, dict[str, Any]], name: str
) -> bool:
    if not isinstance(where, dict):
        raise FilterError("where must be an object")
    operator = where.get("operator")
    if operator in ("And", "Or"):
        operands = where.get("operands")
        if not isinstance(operands, list) or not operands:
            raise FilterError(f"operator {operator} needs operands")
        results = [_holds(operand, obj, props, name) for operand in operands]
        return all(results) if operator == "And" else any(results)
    path = where.get("path")
    if not isinstance(path, list) or len(path) != 1:
        raise FilterError("path must name one property")
    if path[0] == "id":
        held: set[Any] = {obj["id"]}
        kind, tokenization = "uuid", "field"
    else:
        prop = props.get(path[0])
        if prop is None:
            raise FilterError(
                f"no such prop with name {path[0]!r} found in class {name!r}"
            )
        kind = prop["dataType"][0]
        tokenization = prop.get("tokenization", "word")
        held = _held(obj["properties"].get(path[0]), kind, tokenization)
    wanted = _wanted(where, kind, tokenization)
    if operator == "Equal":
        return len(wanted) == 1 and wanted[0] <= held
    if operator == "NotEqual":
        return len(wanted) == 1 and not wanted[0] <= held
    if operator == "ContainsAny":
        return any(value & held for value in wanted)
    raise FilterError(f"operator {operator!r} is not supported here")


def _held(value: Any, kind: str, tokenization: str) -> set[Any]:
    values = value if isinstance(value, list) else [value]
    held: set[Any] = set()
    for item in values:
        if item is None:
            continue
        if kind.startswith("text"):
            held |= tokens(str(item), tokenization)
        else:
            held.add(item)
    return held


def _wanted(where: dict[str, Any], kind: str, tokenization: str) -> list[set[Any]]:
    """Each value of the condition, as the set of tokens it must match."""
    if kind.startswith(("text", "uuid")):
        if "valueText" in where:
            raw: list[Any] = [where["valueText"]]
        elif "valueTextArray" in where:
            raw = list(where["valueTextArray"])
        else:
            raise FilterError(f"a {kind} property takes valueText or valueTextArray")
        if not all(isinstance(v, str) for v in raw):
            raise FilterError("text values must be strings")
        return [tokens(v, tokenization) for v in raw]
    if kind.startswith("int"):
        if "valueInt" in where:
            raw = [where["valueInt"]]
        elif "valueIntArray" in where:
            raw = list(where["valueIntArray"])
        else:
            raise FilterError(f"an {kind} property takes valueInt or valueIntArray")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in raw):
            raise FilterError("int values must be integers")
        return [{v} for v in raw]
    raise FilterError(f"filtering on {kind} properties is not supported here")
