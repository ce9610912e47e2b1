"""Erasure and its verification, per record type as the definition says:
delete (in order, e.g. a soft then a permanent delete), redact inside a
message (the subject's own messages whole, others only her identifiers),
mask by update, keep (with a reason), go with the parent, or be deleted
by a vendor-side job (`jobs`: collected during the walk, run after it).

Children are erased before their parent (comments are redacted while the
user who wrote them can still be listed), and every step is idempotent: a
404 on delete means already gone, a redacted text holds nothing to redact.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.cache import cache

from connectors.base import (
    ConnectorError,
    ErasureReceipt,
    Identity,
    Outcome,
)
from connectors.kinds.saas.client import Client
from connectors.kinds.saas.exemptions import exempt, persists
from connectors.kinds.saas.jobs import Jobs
from connectors.kinds.saas.templates import (
    dig,
    render,
    render_all,
    render_tree,
    values_at,
)
from connectors.kinds.saas.walk import Found, Walker
from connectors.learned_identifiers import known_with
from connectors.redaction import KnownIdentifiers

_TAG = re.compile(r"(<[^>]*>)")
# How long the ids an erasure started on are remembered for its retries
# (a soft-deleted root is no longer found by search).
RESUME_SECONDS = 30 * 24 * 3600
# One erasure at a time per person and store (two requests for the same
# subject fan out at once): the second waits, then finds what the first
# left. A lock outlives a dead worker by LOCK_SECONDS at most.
LOCK_SECONDS = 600
LOCK_WAIT_SECONDS = 120.0


class Eraser:
    def __init__(
        self, walker: Walker, *, task: str = "", job_wait: float | None = None
    ) -> None:
        self.walker = walker
        self.definition = walker.definition
        self.client = walker.client
        self.task = task
        self.jobs = Jobs(
            walker.client,
            walker.definition,
            walker.base,
            task=task,
            wait_seconds=job_wait,
        )

    # -- erase ------------------------------------------------------------------
    def erase(self, identity: Identity, receipt: ErasureReceipt) -> None:
        """Erase every root found and what hangs from it. Before a root is
        touched its id is remembered for this task (ids only, in the cache),
        so a retry after a cut between a soft and a permanent delete finds
        the root search no longer shows and finishes it."""
        with self._one_at_a_time(identity):
            self._erase(identity, receipt)

    def _erase(self, identity: Identity, receipt: ErasureReceipt) -> None:
        root_type = self.definition.record(self.definition.root)
        key = f"saas-erasing:{self.client.name}:{self.task}"
        started: list[str] = list(cache.get(key, [])) if self.task else []
        roots = list(self.walker.roots(identity))
        found = {root.key for root in roots}
        roots += self._unfinished([k for k in started if k not in found], receipt)
        for root in roots:
            if self.task and root.key not in started:
                started.append(root.key)
                cache.set(key, started, timeout=RESUME_SECONDS)
            known = _identifiers(root_type, root.record)
            for kind, values in known.items():
                _remember(receipt, kind, values)
            # Typed by the definition's `identifiers`: a phone the store
            # holds as "07700 900123" is a phone, matched in every format.
            subject = known_with(identity, known)
            self._erase_tree(root, subject, receipt)
        self.jobs.run(receipt)

    @contextmanager
    def _one_at_a_time(self, identity: Identity) -> Iterator[None]:
        """Hold the lock on erasing this person from this store (every
        worker shares it): a second erasure of her waits, then finds what
        the first left, and nothing is redacted or deleted twice. The key is
        a digest of her identifiers, never the identifiers."""
        values = "\n".join(sorted(v.strip().lower() for v in identity.all_values()))
        digest = hashlib.sha256(values.encode()).hexdigest()[:32]
        key = f"saas-erase-lock:{self.client.name}:{digest}"
        token = secrets.token_hex(8)
        waited = 0.0
        while not cache.add(key, token, timeout=LOCK_SECONDS):
            if waited >= LOCK_WAIT_SECONDS:
                raise ConnectorError(
                    f"{self.client.name}: another erasure of the same person "
                    "is still running; retried later",
                    permanent=False,
                )
            time.sleep(0.2)
            waited += 0.2
        try:
            yield
        finally:
            if cache.get(key) == token:
                cache.delete(key)

    def _unfinished(self, keys: list[str], receipt: ErasureReceipt) -> list[Found]:
        """Roots this task began erasing that are not gone yet (by the
        rule's `gone` request, which shows a soft-deleted root)."""
        name = self.definition.root
        gone = self.definition.record(name)["erase"].get("gone")
        if gone is None:
            return []
        unfinished = []
        for key in keys:
            _remember(receipt, f"ids.{name}", (key,))
            answer = self.client.send(gone, {"id": key}, method="GET")
            record = dig(answer.document, gone.get("select", "")) or answer.document
            if answer.status != 404 and isinstance(record, Mapping):
                unfinished.append(self.walker.found(name, record, self.walker.base))
        return unfinished

    def _erase_tree(
        self, found: Found, subject: KnownIdentifiers, receipt: ErasureReceipt
    ) -> None:
        rule = self.definition.record(found.type)["erase"]
        if self.definition.children(found.type) or "gone" in rule:
            # the parents of what is redacted, and what must be gone for good
            _remember(receipt, f"ids.{found.type}", (found.key,))
        for child_type in self.definition.children(found.type):
            # one parent's children at a time: deleting while paging may skip
            for child in list(self.walker.children(child_type, found.context)):
                self._erase_tree(child, subject, receipt)
        self._erase_one(found, subject, receipt)

    def _erase_one(
        self, found: Found, subject: KnownIdentifiers, receipt: ErasureReceipt
    ) -> None:
        rule: Mapping[str, Any] = self.definition.record(found.type)["erase"]
        strategy = rule["strategy"]
        changed = 0
        if strategy == "delete" and not _hers(found, rule, subject):
            exempt(receipt, found.type, rule["otherwise"])
            _remember(receipt, f"kept.{found.type}", (found.key,))
        elif strategy == "delete":
            for request in rule["requests"]:
                answer = self.client.send(request, found.context, method="DELETE")
                changed = changed or int(answer.status != 404)
            if "persists" in rule:
                persists(receipt, found, rule["persists"])
        elif strategy == "redact":
            changed = self._redact(found, rule, subject)
        elif strategy == "redact_whole":
            changed = self._redact_whole(found, rule, subject)
        elif strategy == "mask":
            update(self.client, rule, found, render_all(rule["values"], found.context))
            changed = 1
        elif strategy == "keep" and rule.get("basis"):
            exempt(receipt, found.type, rule)
        elif strategy == "job":
            self.jobs.collect(found.type, found.key)  # changed once it is done
        receipt.add(found.type, found=1, changed=changed)

    def _redact(
        self, found: Found, rule: Mapping[str, Any], subject: KnownIdentifiers
    ) -> int:
        text = found.record.get(rule["text"])
        if not isinstance(text, str):
            return 0
        whole = _theirs(found, rule)
        marked = mark(text, rule, subject, whole=whole)
        if marked == text:
            return 0
        body = {**render_all(rule.get("body", {}), found.context), rule["text"]: marked}
        self.client.call(
            rule["method"],
            render(rule["path"], found.context, in_path=True),
            label=rule["path"],
            body=body,
        )
        return 1

    def _redact_whole(
        self, found: Found, rule: Mapping[str, Any], subject: KnownIdentifiers
    ) -> int:
        """The vendor blanks a whole message: hers, or one naming her (the
        API cannot cut a part of it). One already redacted, or with no text,
        is left (the vendor refuses those)."""
        text = found.record.get(rule["text"])
        if found.record.get(rule["redacted_field"]) or not isinstance(text, str):
            return 0
        if not text.strip() or not (
            _theirs(found, rule) or subject.found_in(_plain(text))
        ):
            return 0
        self.client.call(
            rule["method"],
            render(rule["path"], found.context, in_path=True),
            label=rule["path"],
            body=render_tree(rule.get("body", {}), found.context),
        )
        return 1

    # -- verify -----------------------------------------------------------------
    def verify(self, identity: Identity, receipt: ErasureReceipt | None) -> Outcome:
        """Search again by every identifier (and those the erasure knew),
        ask that each deleted record is gone for good (the root, and any
        type whose rule has a `gone` request: Front's conversations), and
        re-read what the erasure redacted under the parents it kept."""
        outcome = Outcome()
        root = self.definition.root
        known = receipt.known if receipt else {}
        searched = Identity(
            emails=tuple({*identity.emails, *known.get("emails", ())}),
            phones=tuple({*identity.phones, *known.get("phones", ())}),
            customer_ids=identity.customer_ids,
        )
        left = sum(1 for _ in self.walker.roots(searched))
        outcome.add(root, found=left)
        # every record deleted whose type has a `gone` request, by its id
        for name in self.definition.order:
            rule = self.definition.record(name)["erase"]
            if rule["strategy"] != "delete" or "gone" not in rule:
                continue
            kept = set(known.get(f"kept.{name}", ()))  # hers only: others stay
            for key in known.get(f"ids.{name}", ()):
                if key in kept:
                    continue
                answer = self.client.send(rule["gone"], {"id": key}, method="GET")
                outcome.add(name, found=int(answer.status != 404))
        if receipt is not None:
            self._verify_redactions(receipt, outcome)
            self.jobs.verify(receipt, outcome)
        return outcome

    def _verify_redactions(self, receipt: ErasureReceipt, outcome: Outcome) -> None:
        subject = known_with(
            Identity(),
            {kind: receipt.knows(kind) for kind in ("emails", "phones", "names")},
        )
        roots = set(receipt.knows(f"ids.{self.definition.root}"))
        for name in self.definition.order:
            rule = self.definition.record(name)["erase"]
            parent = self.definition.record(name).get("parent")
            strategy = rule["strategy"]
            if strategy not in ("redact", "redact_whole") or parent is None:
                continue
            for parent_key in receipt.knows(f"ids.{parent}"):
                context = {f"{parent}.id": parent_key, "id": parent_key}
                for child in self.walker.children(name, context):
                    text = child.record.get(rule["text"])
                    if not isinstance(text, str):
                        continue
                    author = dig(child.record, rule.get("whole_when_field", ""))
                    mine = str(author) in roots
                    if strategy == "redact_whole":
                        if child.record.get(rule["redacted_field"]):
                            continue
                        done = not mine
                    else:
                        done = not mine or _all_marked(text, rule)
                    if not done or subject.found_in(_plain(text)):
                        outcome.add(name, found=1)


def update(
    client: Client, rule: Mapping[str, Any], found: Found, values: Mapping[str, Any]
) -> None:
    """Write `values` over a record (mask, rectify), wrapped as the rule says."""
    body = {rule["wrap"]: dict(values)} if rule.get("wrap") else dict(values)
    client.call(
        rule["method"],
        render(rule["path"], found.context, in_path=True),
        label=rule["path"],
        body=body,
    )


def mark(
    html: str, rule: Mapping[str, Any], subject: KnownIdentifiers, *, whole: bool
) -> str:
    """`html` with what must go wrapped in the rule's redact tags: every
    text run when `whole`, else the subject's identifiers in it."""
    open_tag, close_tag = rule.get("open_tag", ""), rule.get("close_tag", "")
    marker = rule["marker"]
    parts = _TAG.split(html)
    for index, part in enumerate(parts):
        if index % 2 or not part.strip() or _is_marked(part, marker):
            continue
        if whole:
            parts[index] = f"{open_tag}{part}{close_tag}"
            continue
        pieces, last = [], 0
        for start, end, _ in subject.spans(part):
            pieces.append(part[last:start] + open_tag + part[start:end] + close_tag)
            last = end
        parts[index] = "".join(pieces) + part[last:]
    return "".join(parts)


def _hers(found: Found, rule: Mapping[str, Any], subject: KnownIdentifiers) -> bool:
    """Whether a record a rule deletes `only_when_hers` is the subject's own
    (its field holds one of her identifiers); any record without the rule."""
    field = rule.get("only_when_hers")
    if not field:
        return True
    value = dig(found.record, field)
    return isinstance(value, str) and subject.found_in(value)


def _theirs(found: Found, rule: Mapping[str, Any]) -> bool:
    field, parent = rule.get("whole_when_field"), rule.get("equals_parent")
    if not field or not parent:
        return False
    return str(dig(found.record, field)) == str(found.context.get(f"{parent}.id"))


def _is_marked(text: str, marker: str) -> bool:
    return all(ch == marker or ch.isspace() for ch in text)


def _all_marked(html: str, rule: Mapping[str, Any]) -> bool:
    return _is_marked(_plain(html), rule["marker"])


def _plain(html: str) -> str:
    return "".join(part for i, part in enumerate(_TAG.split(html)) if i % 2 == 0)


def _identifiers(
    record_type: Mapping[str, Any], record: Mapping[str, Any]
) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for kind, fields in record_type.get("identifiers", {}).items():
        # a field may be a dotted path (HubSpot's properties.email), with
        # `[]` for each item of a list (Help Scout's _embedded.emails[].value)
        values = tuple(
            v for f in fields for v in values_at(record, f) if isinstance(v, str)
        )
        values = tuple(v for v in values if v)
        if values:
            found[kind] = values
    return found


def _remember(receipt: ErasureReceipt, kind: str, values: tuple[str, ...]) -> None:
    current = receipt.known.get(kind, ())
    receipt.known[kind] = current + tuple(v for v in values if v not in current)
