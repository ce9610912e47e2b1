"""An Intercom stand-in (standins.intercom) per test, for the connector
tests and the executor's ones (import the fixture into the test module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from standins.intercom import StandIn, start

TOKEN = "ic-access-token-0123456789"


@pytest.fixture
def intercom_standin() -> Iterator[StandIn]:
    server = start(token=TOKEN)
    cache.clear()  # the budget's counters and pauses start empty
    yield server
    server.stop()
