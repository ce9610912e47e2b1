"""One way to run a SaaS stand-in (standins.<service>) for a test: started
on a free loopback port, the budget's counters emptied, stopped after.

    standin = standin_fixture(start, TOKEN)        # the fixture `standin`
    yield from running(service.start, TOKEN)       # inside a fixture of yours
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from django.core.cache import cache

S = TypeVar("S")


def running(start: Callable[..., S], token: str, **options: Any) -> Iterator[S]:
    server = start(token=token, **options)
    cache.clear()  # the budget's counters and pauses start empty
    try:
        yield server
    finally:
        server.stop()  # type: ignore[attr-defined]


def standin_fixture(start: Callable[..., S], token: str) -> Any:
    """A pytest fixture yielding a stand-in started by `start`, named by
    the module attribute it is assigned to (and any alias of it)."""

    def standin() -> Iterator[S]:
        yield from running(start, token)

    return pytest.fixture(standin)
