"""What every stand-in's holdings (the `account` of its `Service`) share: a
lock every method takes, ids for the records it creates, the fields a
rectification may write, and a `summary` for `/_standin/state.json`."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

RECTIFIABLE = ("name", "email", "phone")


@dataclass
class Holdings(ABC):
    lock: threading.RLock = field(default_factory=threading.RLock)
    _next_id: int = 0  # each service starts its ids where its API's look real

    def _new_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    @abstractmethod
    def summary(self) -> Any:
        """What `/_standin/state.json` shows of this service's holdings."""


def rectify(record: dict[str, Any], changes: dict[str, Any]) -> list[str]:
    """Write the rectifiable fields `changes` holds over `record`; the keys
    written, in RECTIFIABLE's order."""
    written = [key for key in RECTIFIABLE if key in changes]
    for key in written:
        record[key] = changes[key]
    return written
