"""Appending to the audit chain."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.actors import Actor
from audit.chain import GENESIS_HASH, canonical_event, event_hash
from audit.models import AuditEvent

# Any fixed 64-bit number: the key of the PostgreSQL advisory lock that
# serialises appends, so two concurrent writers can never fork the chain.
_CHAIN_LOCK_KEY = 0x50_44_41_55_44_49_54  # "PDAUDIT"


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    # SQLite: transactions start IMMEDIATE (settings), so writers already
    # queue on the database lock.


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
    # No savepoint inside a caller's transaction: the event and the change it
    # records commit or fail together anyway, and a savepoint costs two round
    # trips per event.
    with transaction.atomic(savepoint=False):
        _lock_chain()
        head = AuditEvent.objects.order_by("-sequence").only("sequence", "hash").first()
        sequence = head.sequence + 1 if head else 1
        prev_hash = head.hash if head else GENESIS_HASH
        occurred_at = timezone.now()
        canonical = canonical_event(
            sequence=sequence,
            occurred_at=occurred_at,
            actor=actor_ref,
            action=action,
            object_type=object_type,
            object_id=object_id,
            data=clean_data,
        )
        return AuditEvent.objects.create(
            sequence=sequence,
            occurred_at=occurred_at,
            actor=actor_ref,
            action=action,
            object_type=object_type,
            object_id=object_id,
            data=clean_data,
            prev_hash=prev_hash,
            hash=event_hash(prev_hash, canonical),
        )
