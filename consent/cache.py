"""The consent-check cache: one round trip on a hit, never a stale answer.

An answer is cached under (purpose, the identity's blind indexes). Instead of
deleting answers on a change (a reader that loaded the old state just before
the change commits could put it back right after the delete), every answer
carries the *generation tokens* it was computed under:

- one token per identifier (its blind index), replaced after commit whenever
  the subject owning it records a consent event;
- one token per purpose, replaced when a policy version is published or the
  purpose changes (a material version turns grants into "needs renewal").

A lookup fetches the answer and the current tokens in one MGET and uses the
answer only if the tokens match. A reader takes its tokens *before* it reads
the database, so an answer computed from a state that a writer then replaced
is stored under tokens that no longer match. A token that is missing (never
set, expired or evicted) is created fresh before the read, which invalidates
every answer computed under an older one.

Unknown subjects get their default answer cached too: the first grant links
the identifier and replaces its token, so the new state is visible at once.

The cache is Django's default cache (Redis in production): a hit is one MGET
on a long-lived client, a miss adds one pipelined round trip for missing
tokens and one SET; other backends (the embedded mode's database cache) go
through the portable cache API. A failing cache never fails a check: the
answer then comes from the database.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction

logger = logging.getLogger(__name__)

ANSWER_SECONDS = 300  # a safety net only: tokens invalidate answers at once
PURPOSE_SECONDS = 300
TOKEN_SECONDS = 3600  # above ANSWER_SECONDS; an expired token only costs a miss

Tokens = dict[str, int | None]


def _identifier_key(index: str) -> str:
    return f"consent:gen:i:{index}"


def _purpose_key(slug: str) -> str:
    return f"consent:gen:p:{slug}"


def _answer_key(slug: str, indexes: Iterable[str]) -> str:
    digest = hashlib.sha256("|".join(indexes).encode()).hexdigest()[:40]
    return f"consent:answer:{slug}:{digest}"


def _purpose_info_key(slug: str) -> str:
    return f"consent:purpose:{slug}"


def _new_token() -> int:
    # An int: Django's Redis serializer stores ints as plain numbers, so the
    # pipelined path and the portable cache API read the same values.
    return secrets.randbits(62)


def _redis() -> tuple[Any, Any] | None:
    """The raw client and serializer behind Django's Redis cache, if that is it.

    Django has no public pipeline API and builds a client per call; its
    client and serializer are used as they are, and anything unexpected
    falls back to the portable path.
    """
    backend = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, RedisCache):
        return None
    inner = getattr(backend, "_cache", None)
    serializer = getattr(inner, "_serializer", None)
    if inner is None or serializer is None or not hasattr(inner, "get_client"):
        return None
    # Django builds a new redis.Redis per call, and redis-py fills a table of
    # ~170 response callbacks for each: a sixth of a millisecond on the
    # hottest endpoint. One client per backend is enough (it is thread-safe
    # and shares the backend's connection pool).
    client = getattr(inner, "_consent_client", None)
    if client is None:
        client = inner.get_client(write=True)
        inner._consent_client = client
    return client, serializer


def _warn(operation: str, error: Exception) -> None:
    logger.warning("consent cache %s failed: %s", operation, type(error).__name__)


class Lookup:
    """One check's view of the cache: maybe an answer, maybe purpose facts."""

    def __init__(self, slug: str, indexes: list[str]) -> None:
        self.slug = slug
        self.indexes = list(indexes)
        self.answer_key = _answer_key(slug, indexes)
        self.info_key = _purpose_info_key(slug)
        self.token_keys = [_purpose_key(slug)] + [_identifier_key(i) for i in indexes]
        self.tokens: Tokens = dict.fromkeys(self.token_keys)
        self.answer: dict[str, Any] | None = None
        self.purpose_info: dict[str, Any] | None = None
        self.usable = True  # False when the cache is down: skip writing to it
        self._created: list[str] = []
        self.extra: dict[str, Any] = {}

    def matches(self, slug: str, indexes: list[str]) -> bool:
        return self.slug == slug and self.indexes == indexes

    def fetch(self, *, extra: Iterable[str] = ()) -> Lookup:
        """Read the answer, the purpose facts and the tokens in one MGET.

        `extra` keys ride along (the check's token lookup) and land in
        `self.extra`.
        """
        extra = list(extra)
        names = [self.answer_key, self.info_key, *self.token_keys, *extra]
        try:
            redis = _redis()
            if redis is not None:
                client, serializer = redis
                values = client.mget([cache.make_key(n) for n in names])
                found = {
                    name: serializer.loads(value)
                    for name, value in zip(names, values, strict=True)
                    if value is not None
                }
            else:
                found = cache.get_many(names)
        except Exception as error:  # a cache outage must not fail the check
            _warn("read", error)
            self.usable = False
            return self
        self.extra = {key: found[key] for key in extra if key in found}
        self.tokens = {key: found.get(key) for key in self.token_keys}
        self.answer = self._valid(found.get(self.answer_key), self.token_keys)
        self.purpose_info = self._valid(found.get(self.info_key), self.token_keys[:1])
        return self

    def _valid(self, entry: Any, keys: list[str]) -> dict[str, Any] | None:
        if not isinstance(entry, dict):
            return None
        current = [self.tokens[key] for key in keys]
        if None in current or entry.get("tokens") != current:
            return None
        return entry["value"]

    def ensure_tokens(self) -> None:
        """Create missing tokens; call before reading the database."""
        missing = [key for key, token in self.tokens.items() if token is None]
        if not self.usable or not missing:
            return
        try:
            redis = _redis()
            if redis is not None:
                self._ensure_pipelined(missing, *redis)
                return
            for key in missing:
                fresh = _new_token()
                if cache.add(key, fresh, TOKEN_SECONDS):
                    self.tokens[key] = fresh
                    self._created.append(key)
                else:
                    self.tokens[key] = cache.get(key)
        except Exception as error:
            _warn("token", error)
            self.usable = False

    def _ensure_pipelined(
        self, missing: list[str], client: Any, serializer: Any
    ) -> None:
        """SET NX every missing token and read back the winners: one round trip."""
        redis_keys = [cache.make_key(key) for key in missing]
        pipeline = client.pipeline(transaction=False)
        for redis_key in redis_keys:
            pipeline.set(redis_key, _new_token(), ex=TOKEN_SECONDS, nx=True)
        pipeline.mget(redis_keys)
        *created, values = pipeline.execute()
        for key, made, value in zip(missing, created, values, strict=True):
            self.tokens[key] = None if value is None else serializer.loads(value)
            if made:
                self._created.append(key)

    def forget_created_tokens(self) -> None:
        """Undo `ensure_tokens` for a check that turned out invalid."""
        if not self._created:
            return
        try:
            cache.delete_many(self._created)
        except Exception as error:
            _warn("delete", error)

    def store_purpose_info(self, value: dict[str, Any]) -> None:
        self._store(self.info_key, self.token_keys[:1], value, PURPOSE_SECONDS)

    def store_answer(self, value: dict[str, Any], seconds: int) -> None:
        self._store(self.answer_key, self.token_keys, value, seconds)

    def _store(
        self, key: str, token_keys: list[str], value: dict[str, Any], seconds: int
    ) -> None:
        tokens = [self.tokens[k] for k in token_keys]
        if not self.usable or None in tokens:
            return
        entry = {"tokens": tokens, "value": value}
        try:
            redis = _redis()
            if redis is None:
                cache.set(key, entry, seconds)
                return
            client, serializer = redis
            client.set(cache.make_key(key), serializer.dumps(entry), ex=seconds)
        except Exception as error:
            _warn("write", error)


def _replace_tokens(keys: list[str]) -> None:
    if not keys:
        return
    try:
        cache.set_many({key: _new_token() for key in keys}, TOKEN_SECONDS)
    except Exception as error:
        # Answers then live at most ANSWER_SECONDS; say so, with no ids of people.
        logger.error(
            "consent cache invalidation failed (%s); cached answers may be stale "
            "for up to %d s",
            type(error).__name__,
            ANSWER_SECONDS,
        )


def invalidate_identifiers_on_commit(indexes: Iterable[str]) -> None:
    """After this transaction commits, retire every answer for these identifiers."""
    keys = sorted({_identifier_key(index) for index in indexes})
    transaction.on_commit(lambda: _replace_tokens(keys))


def invalidate_purpose_on_commit(slug: str) -> None:
    """After commit, retire every cached answer (and fact) about a purpose."""
    transaction.on_commit(lambda: _replace_tokens([_purpose_key(slug)]))
