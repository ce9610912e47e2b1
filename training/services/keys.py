"""Handing the export key to a pipeline (audited: who holds it matters)."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_record
from training.keys import INDEXED_KINDS, export_key, export_key_id


@dataclass(frozen=True)
class ExportKey:
    key: str
    key_id: str
    kinds: tuple[str, ...] = INDEXED_KINDS
    algorithm: str = "HMAC-SHA256"
    message: str = "<kind>|<normalised value>"


def export_key_hand_out(*, actor: Actor) -> ExportKey:
    """The export key, for a pipeline that filters its own data by index."""
    actor.require(Perm.TRAINING_VIEW)
    key = export_key()
    audit_record(
        actor=actor,
        action="training.export_key_read",
        obj=None,
        data={"key_id": export_key_id(key)},
    )
    return ExportKey(key=key, key_id=export_key_id(key))
