"""What both runs of vector_erasure.py share: the seeded points of an AI
assistant's memory, the subjects' identifiers, and the engine wrapper that
counts and times the kind's calls."""

from __future__ import annotations

import time
from typing import Any

SEED = 2026
DIMENSIONS = 8
PER_CUSTOMER, CHUNKS = 20, 5  # 4 conversations of 5 chunks
BATCH = 10_000


def email(customer: int) -> str:
    return f"customer.{customer}@example.com"


def conversations(customer: int) -> list[str]:
    return [f"conv-{customer}-{n}" for n in range(PER_CUSTOMER // CHUNKS)]


def payload(point: int) -> dict[str, Any]:
    """Point `point`'s payload: its customer's e-mail on each conversation's
    first chunk only (the others are found through their conversation id)."""
    customer, index = divmod(point, PER_CUSTOMER)
    chunk = index % CHUNKS
    data: dict[str, Any] = {
        "document": f"chunk {chunk} of a support chat about ORD-{point:07d}",
        "conversation_id": conversations(customer)[index // CHUNKS],
        "source": "assistant",
    }
    if chunk == 0:
        data["customer_email"] = email(customer)
    return data


class Counted:
    """An engine of the kind, counting and timing its calls into `calls` and
    `seconds` (shared by the engines of several actions); `keep_open`: the
    engine is the bench's, kept open when the kind closes it."""

    def __init__(
        self,
        engine: Any,
        *,
        calls: dict[str, int] | None = None,
        seconds: dict[str, float] | None = None,
        keep_open: bool = True,
    ) -> None:
        self.engine = engine
        self.calls = {} if calls is None else calls
        self.seconds = {} if seconds is None else seconds
        self.keep_open = keep_open

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.engine, name)
        if name not in ("find", "delete", "count", "dimensions", "collections"):
            return method

        def timed(*args: Any) -> Any:
            started = time.perf_counter()
            try:
                result = method(*args)
                if name == "find":
                    result = list(result)
                return result
            finally:
                self.calls[name] = self.calls.get(name, 0) + 1
                self.seconds[name] = self.seconds.get(name, 0.0) + (
                    time.perf_counter() - started
                )

        return timed

    def close(self) -> None:
        if self.keep_open:
            return
        name = "close"
        started = time.perf_counter()
        self.engine.close()
        self.calls[name] = self.calls.get(name, 0) + 1
        self.seconds[name] = self.seconds.get(name, 0.0) + (
            time.perf_counter() - started
        )
