"""The production cache backend (privacydesk.cache): Django's Redis cache
with one redis-py client per connection pool, on a real Redis."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from django.core.cache import cache
from django.test import override_settings

from privacydesk.cache import RedisCache
from tests.consent.conftest import redis_caches


def test_one_client_serves_every_call_and_the_cache_api_is_djangos() -> None:
    with override_settings(CACHES=redis_caches(f"t-{uuid.uuid4().hex}")):
        backend: Any = cache._connections[cache._alias]  # the ConnectionProxy's
        assert isinstance(backend, RedisCache)
        client = backend._cache.get_client()

        cache.set("a", {"n": 1}, 30)
        assert cache.add("a", "other", 30) is False
        assert cache.get("a") == {"n": 1}
        assert cache.get_many(["a", "missing"]) == {"a": {"n": 1}}
        cache.set("c", 1, 30)
        assert cache.incr("c") == 2
        cache.delete("a")
        assert cache.get("a", "gone") == "gone"

        assert backend._cache.get_client(write=True) is client
        assert backend._cache.get_client("any key") is client


def test_each_thread_has_its_own_backend_and_client() -> None:
    with override_settings(CACHES=redis_caches(f"t-{uuid.uuid4().hex}")):
        cache.set("shared", "from main", 30)
        mine = cache._connections[cache._alias]._cache.get_client()
        seen: dict[str, Any] = {}

        def other() -> None:
            seen["value"] = cache.get("shared")
            seen["client"] = cache._connections[cache._alias]._cache.get_client()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()

        assert seen["value"] == "from main"
        assert seen["client"] is not mine
