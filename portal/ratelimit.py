"""A small fixed-window rate limiter for the portal, on Django's cache.

Lives in the front door because it is about HTTP clients, not about
requests: the domain never sees an IP address. The address itself is never
stored: the cache key holds a keyed hash of it (privacydesk.crypto), so a
cache dump reveals nothing about who visited.
"""

from __future__ import annotations

import time

from django.core.cache import cache

from privacydesk.crypto import keyed_hash

WINDOW_SECONDS = 3600


def _key(scope: str, client: str, window: int) -> str:
    digest = keyed_hash(client, purpose=f"portal-ratelimit:{scope}")
    return f"portal:rl:{scope}:{digest}:{window}"


def rate_limit_hit(
    *, scope: str, client: str, limit: int, window_seconds: int = WINDOW_SECONDS
) -> bool:
    """Count one attempt by `client`; False once it is over `limit` this window."""
    window = int(time.time() // window_seconds)
    key = _key(scope, client, window)
    # add() is a no-op when the key exists, so concurrent first hits still
    # share one counter; incr() is atomic on Redis and LocMem.
    cache.add(key, 0, timeout=window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add() and incr()
        cache.set(key, 1, timeout=window_seconds)
        count = 1
    return count <= limit
