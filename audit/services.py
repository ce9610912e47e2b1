"""Appending to the audit chain."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.actors import Actor
from audit.chain import GENESIS_HASH, canonical_prefix, hash_of
from audit.models import AuditEvent

# Any fixed 64-bit number: the key of the PostgreSQL advisory lock that
# serialises appends (in `audit_append`), so two writers can never fork the
# chain.
_CHAIN_LOCK_KEY = 0x50_44_41_55_44_49_54  # "PDAUDIT"


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
    """Append one event; joins the caller's transaction so both commit together."""
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
    if connection.vendor == "postgresql":
        return _append_in_database(event)
    # SQLite: transactions start IMMEDIATE (settings), so writers already
    # queue on the database lock. No savepoint inside a caller's transaction:
    # the event and the change it records commit or fail together anyway.
    with transaction.atomic(savepoint=False):
        head = AuditEvent.objects.order_by("-sequence").only("sequence", "hash").first()
        event.sequence = head.sequence + 1 if head else 1
        event.prev_hash = head.hash if head else GENESIS_HASH
        event.hash = hash_of(event)
        event.save(force_insert=True)
        return event


def _append_in_database(event: AuditEvent) -> AuditEvent:
    """PostgreSQL: lock, read the head, hash and insert in one round trip
    (the `audit_append` function); the hash is the same as the ORM path's."""
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM audit_append(%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)",
            [
                _CHAIN_LOCK_KEY,
                GENESIS_HASH,
                canonical_prefix(event),
                event.occurred_at,
                event.actor,
                event.action,
                event.object_type,
                event.object_id,
                json.dumps(event.data),
            ],
        )
        event.pk, event.sequence, event.prev_hash, event.hash = cursor.fetchone()
    event._state.adding = False  # a saved row, as create() returns
    event._state.db = connection.alias
    return event
