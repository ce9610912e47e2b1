"""Appending to the audit chain."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.actors import Actor
from audit.chain import GENESIS_HASH, canonical_prefix, hash_of
from audit.models import AuditEvent

# Any fixed 64-bit number: the key of the PostgreSQL advisory lock that
# serialises appends (in `audit_append_many`), so two writers can never fork
# the chain.
_CHAIN_LOCK_KEY = 0x50_44_41_55_44_49_54  # "PDAUDIT"
# The events of the running `audit_batch`, if one is open.
_batch: ContextVar[list[AuditEvent] | None] = ContextVar("_audit_batch", default=None)


def _object_ref(obj: models.Model | None) -> tuple[str, str]:
    if obj is None:
        return "", ""
    public_id = getattr(obj, "public_id", None)
    return obj._meta.label_lower, str(public_id if public_id is not None else obj.pk)


def audit_record(
    *,
    actor: Actor | str,
    action: str,
    obj: models.Model | None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event; joins the caller's transaction so both commit together.

    Inside `audit_batch` the event is appended when the batch ends: until
    then the returned event has no sequence number or hash."""
    object_type, object_id = _object_ref(obj)
    # Store exactly what was hashed: round-trip through JSON first.
    clean_data = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))
    actor_ref = actor if isinstance(actor, str) else actor.ref
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor=actor_ref,
        action=action,
        object_type=object_type,
        object_id=object_id,
        data=clean_data,
    )
    batch = _batch.get()
    if batch is not None:
        batch.append(event)
    else:
        _append([event])
    return event


@contextmanager
def audit_batch() -> Iterator[None]:
    """Append the events recorded in the block together when it ends without
    an error: one round trip on PostgreSQL, in the order recorded, and the
    chain lock taken only then, so held until the commit that follows and no
    longer. For a service that records several events in one transaction:

        with transaction.atomic(), audit_batch():
            ...

    (the batch ends before the transaction commits). A nested batch joins the
    outer one. Do not catch an error inside a batch: an event recorded in a
    savepoint that was rolled back would still be appended."""
    if _batch.get() is not None:
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("audit_batch() belongs inside transaction.atomic()")
    events: list[AuditEvent] = []
    token = _batch.set(events)
    try:
        yield
    finally:
        _batch.reset(token)
    if events:  # reached only when the block ended without an error
        _append(events)


def _append(events: list[AuditEvent]) -> None:
    if connection.vendor == "postgresql":
        _append_in_database(events)
        return
    # SQLite: transactions start IMMEDIATE (settings), so writers already
    # queue on the database lock. No savepoint inside a caller's transaction:
    # the events and the change they record commit or fail together anyway.
    with transaction.atomic(savepoint=False):
        head = AuditEvent.objects.order_by("-sequence").only("sequence", "hash").first()
        sequence, prev_hash = (head.sequence, head.hash) if head else (0, GENESIS_HASH)
        for event in events:
            sequence += 1
            event.sequence, event.prev_hash = sequence, prev_hash
            event.hash = prev_hash = hash_of(event)
            event.save(force_insert=True)


def _append_in_database(events: list[AuditEvent]) -> None:
    """PostgreSQL: lock, read the head, hash and insert every event in one
    round trip (the `audit_append_many` function); the hashes are the same
    as the ORM path's."""
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM audit_append_many(%s, %s, %s::text[], %s::timestamptz[],"
            " %s::text[], %s::text[], %s::text[], %s::text[], %s::jsonb[])",
            [
                _CHAIN_LOCK_KEY,
                GENESIS_HASH,
                [canonical_prefix(event) for event in events],
                [event.occurred_at for event in events],
                [event.actor for event in events],
                [event.action for event in events],
                [event.object_type for event in events],
                [event.object_id for event in events],
                [json.dumps(event.data) for event in events],
            ],
        )
        rows = cursor.fetchall()
    for event, row in zip(events, rows, strict=True):
        event.pk, event.sequence, event.prev_hash, event.hash = row
        event._state.adding = False  # a saved row, as create() returns
        event._state.db = connection.alias


def audit_export_record(
    *, actor: Actor, what: str, rows: int, filters: dict[str, Any]
) -> AuditEvent:
    """Record that `actor` exported `rows` rows of `what` ("requests",
    "audit_log", "ccpa_metrics") as a file, with the filters applied (ids
    and choices only): who took which data out (SOC 2 CC6.7)."""
    return audit_record(
        actor=actor,
        action=f"{what}.exported",
        obj=None,
        data={"rows": rows, "filters": filters},
    )
