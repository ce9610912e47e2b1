"""The consent-check cache: one round trip on a hit, never a stale answer.

An answer is cached under (purpose, the identity's blind indexes). Instead of
deleting answers on a change (a reader that loaded the old state just before
the change commits could put it back right after the delete), every answer
carries the *generation tokens* it was computed under:

- one token per identifier (its blind index), replaced after commit whenever
  the subject owning it records a consent event;
- one token per purpose, replaced when a policy version is published or the
  purpose changes (a material version turns grants into "needs renewal").

A lookup reads the answer and the current tokens in one atomic step and uses
the answer only if every token is present and equal to the one it carries.
In that same step (a Lua script, so one round trip) every missing token
(never set, expired or evicted) is created with a fresh value. A reader thus
holds token values that were in Redis *before* it read the database, and it
stores its answer under them. Why a change is never hidden:

- A writer commits, then replaces each token it touched with a fresh value.
- A stale answer was read from the database before that commit, so the
  token value it carries was in Redis even earlier: before the writer's
  replacement, which overwrote it (or found the key changed or gone).
- From then on the key holds the writer's value, a later fresh value, or
  nothing (evicted, expired, flushed). No step ever writes an old value
  back: writers write fresh values, and readers create fresh values only
  where the key is missing, atomically with their read. A missing token
  serves nothing, so an eviction costs a miss and never resurrects an
  answer. Fresh values are 62 random bits: a repeat is not a concern.
- So the stale answer may still be stored, at any time later, but it is
  never served. The purpose facts ride on the purpose token the same way.

The creating step runs before the caller is known: the API's authentication
folds the API-client cache read into it (consent.api.authentication). There
tokens are created only when that client's cached record is present, so a
request with an unknown bearer token creates nothing; a lookup that created
nothing creates its tokens with `ensure_tokens` (one more round trip) before
it reads the database, and the argument above is unchanged.

Unknown subjects get their default answer cached too: the first grant links
the identifier and replaces its token, so the new state is visible at once.

The cache is Django's default cache (Redis in production): a hit is one
script call on the check's own connection; a miss adds the database query
and one SET, whose reply the check does not wait for. Other backends (the
embedded mode's database cache) go through the portable cache API, where
missing tokens are created with `add` before the read. A failing cache
never fails a check: the answer then comes from the database.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import threading
from collections.abc import Iterable
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from redis.exceptions import NoScriptError, ResponseError

logger = logging.getLogger(__name__)

ANSWER_SECONDS = 300  # a safety net only: tokens invalidate answers at once
PURPOSE_SECONDS = 300
TOKEN_SECONDS = 3600  # above ANSWER_SECONDS; an expired token only costs a miss

Tokens = dict[str, int | None]

# KEYS: the answer, the purpose facts, the tokens, then any extra keys.
# ARGV: the number of tokens, their lifetime, the position in KEYS of the key
# whose presence allows creating them (0: always), a fresh value. Returns
# every value, and the positions among the tokens of those it created. One
# fresh value serves every key it creates: what matters is that no key ever
# gets back a value it held before.
_FETCH_SCRIPT = """
local values = redis.call('MGET', unpack(KEYS))
local count, guard, fresh = tonumber(ARGV[1]), tonumber(ARGV[3]), ARGV[4]
local created = {}
if guard == 0 or values[guard] then
  for i = 1, count do
    if not values[2 + i] then
      redis.call('SET', KEYS[2 + i], fresh, 'EX', ARGV[2])
      values[2 + i] = fresh
      created[#created + 1] = i
    end
  end
end
return {values, created}
"""
_FETCH_SHA = hashlib.sha1(_FETCH_SCRIPT.encode()).hexdigest()


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
    # script, the pipelined path and the portable cache API read the same
    # values.
    return secrets.randbits(62)


class _Redis:
    """The raw client and serializer behind Django's Redis cache, and this
    thread's own connection for the check's commands.

    Around every command redis-py's client checks a connection out of its
    pool, polls it for stray data, wraps it in retries and records metrics:
    two to three times the cost of the command itself, on the hottest
    endpoint. A
    connection of our own, used by one thread, needs none of that, and lets a
    cache write go without waiting for its reply. A failure other than an
    error reply drops the connection (a reply left unread would answer the
    next command); the caller then treats the cache as down for this check.
    """

    def __init__(self, client: Any, serializer: Any, make_key: Any) -> None:
        self.client = client
        self.serializer = serializer
        self.make_key = make_key  # the backend's own: `cache` is a proxy per use
        self._local = threading.local()

    def call(self, *args: Any) -> Any:
        """Run one command and return its reply."""
        return self._run(args, reply=True)

    def send(self, *args: Any) -> None:
        """Send one command whose reply nobody needs (a cache write). Its reply
        is read, and dropped, after the next command is sent: the check need
        not wait for it."""
        self._run(args, reply=False)

    def _run(self, args: tuple[Any, ...], *, reply: bool) -> Any:
        local = self._local
        connection = getattr(local, "connection", None)
        if connection is None or local.pid != os.getpid():  # new, or forked
            connection = self.client.connection_pool.make_connection()
            local.connection, local.pid, local.unread = connection, os.getpid(), 0
        try:
            connection.send_packed_command([_pack(args)])
            while local.unread:
                with contextlib.suppress(ResponseError):  # a failed write: a miss
                    connection.read_response()
                local.unread -= 1
            if not reply:
                local.unread = 1
                return None
            return connection.read_response()
        except ResponseError:  # an error reply was read in full: still in step
            raise
        except BaseException:
            local.connection = None
            connection.disconnect()
            raise


def _pack(args: tuple[Any, ...]) -> bytes:
    """One command in the Redis protocol; arguments are bytes, str or int
    (half the time of redis-py's general packer, which handles any type)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _redis() -> _Redis | None:
    """Django's Redis cache seen from below, if that is the cache.

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
    # Django's own backend builds a new redis.Redis per call (redis-py fills
    # a table of ~170 response callbacks for each: a sixth of a millisecond
    # on the hottest endpoint; privacydesk.cache keeps one). One client per
    # backend is enough (it is thread-safe and shares the backend's pool).
    redis = getattr(inner, "_consent_redis", None)
    if redis is None:
        redis = _Redis(inner.get_client(write=True), serializer, backend.make_key)
        inner._consent_redis = redis
    return redis


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
        self._redis: _Redis | None = None  # as found by `fetch`, for the store
        self.extra: dict[str, Any] = {}

    def fetch(
        self, *, extra: Iterable[str] = (), create_if: str | None = None
    ) -> Lookup:
        """Read the answer, the purpose facts and the tokens in one round trip,
        creating missing tokens in the same step (see the module docstring).

        `extra` keys ride along (the check's API-client lookup) and land in
        `self.extra`; with `create_if` (one of them), tokens are created only
        if that key is present.
        """
        extra = list(extra)
        names = [self.answer_key, self.info_key, *self.token_keys, *extra]
        guard = names.index(create_if) + 1 if create_if is not None else 0
        try:
            redis = self._redis = _redis()
            if redis is not None:
                found = self._fetch_scripted(redis, names, guard)
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

    def _fetch_scripted(
        self, redis: _Redis, names: list[str], guard: int
    ) -> dict[str, Any]:
        keys = [redis.make_key(name) for name in names]
        args = [len(keys), *keys, len(self.token_keys), TOKEN_SECONDS, guard]
        args.append(_new_token())
        try:
            values, created = redis.call("EVALSHA", _FETCH_SHA, *args)
        except NoScriptError:  # a restarted or flushed server: EVAL caches it
            values, created = redis.call("EVAL", _FETCH_SCRIPT, *args)
        self._created += [self.token_keys[position - 1] for position in created]
        return {
            name: redis.serializer.loads(value)
            for name, value in zip(names, values, strict=True)
            if isinstance(value, bytes)  # a missing key is nil, never false
        }

    def _valid(self, entry: Any, keys: list[str]) -> dict[str, Any] | None:
        if not isinstance(entry, dict):
            return None
        current = [self.tokens[key] for key in keys]
        if None in current or entry.get("tokens") != current:
            return None
        return entry["value"]

    def ensure_tokens(self) -> None:
        """Create tokens `fetch` left missing; call before reading the database."""
        missing = [key for key, token in self.tokens.items() if token is None]
        if not self.usable or not missing:
            return
        try:
            redis = _redis()
            if redis is not None:
                self._ensure_pipelined(missing, redis.client, redis.serializer)
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
        """Delete the tokens this lookup created, for a check that turned out
        invalid (deleting a token only ever retires answers)."""
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
            redis = self._redis or _redis()
            if redis is None:
                cache.set(key, entry, seconds)
                return
            payload = redis.serializer.dumps(entry)
            redis.send("SET", redis.make_key(key), payload, "EX", seconds)
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
