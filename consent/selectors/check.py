"""The consent check: may purpose P use subject S now? Answered from a
cache that every change retires at once (consent.cache), else by one query."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.actors import Actor
from accounts.permissions import Perm
from consent.cache import ANSWER_SECONDS, Lookup
from consent.choices import ConsentStatus
from consent.models import (
    ConsentState,
    PolicyVersion,
    Purpose,
)
from consent.selectors.versions import policy_versions_in_force
from privacydesk import crypto
from privacydesk.errors import ValidationFailed
from privacydesk.prepared import prepared_rows
from subjects.claims import Claim, identity_claims
from subjects.models import SubjectIdentifier

_SLUG = re.compile(r"^[a-z0-9_-]{1,50}$")
# Unknown subjects: short, because an identifier linked outside consent (a
# verified request adding a phone) does not retire the default answer.
UNKNOWN_SUBJECT_SECONDS = 60


# --- the check: may purpose P use subject S now? -------------------------------


def _purpose_facts(slug: str) -> dict[str, Any]:
    current = (
        policy_versions_in_force().filter(purpose=OuterRef("pk")).values("version")[:1]
    )
    facts = (
        Purpose.objects.filter(slug=slug)
        .annotate(current_version=Subquery(current))
        .values("id", "default_granted", "current_version")
        .first()
    )
    if facts is None:
        raise ValidationFailed("unknown purpose", field="purpose")
    return dict(facts)  # a plain dict, as the cache hands purpose facts back


def _default_answer(slug: str, facts: dict[str, Any]) -> dict[str, Any]:
    return {
        "allowed": facts["default_granted"],
        "state": ConsentStatus.DEFAULT.value,
        "purpose": slug,
        "policy_version": facts["current_version"],
        "since": None,
    }


@dataclass(frozen=True)
class PreparedCheck:
    """A check's inputs, validated, and its (unfetched) cache lookup: made
    ahead by the API's authentication, which fetches the lookup together with
    the caller's token."""

    identity: Any  # the very document the claims were read from
    purpose: str
    claims: list[Claim]
    lookup: Lookup


def consent_check_prepare(*, identity: Any, purpose: Any) -> PreparedCheck | None:
    """The check these inputs ask for, or None when they are invalid (the
    check itself then says why)."""
    try:
        claims = identity_claims(identity)
    except ValidationFailed:
        return None
    if not isinstance(purpose, str) or not _SLUG.match(purpose):
        return None
    lookup = Lookup(purpose, _claim_indexes(claims))
    return PreparedCheck(identity, purpose, claims, lookup)


def consent_check(
    *,
    actor: Actor,
    identity: Any,
    purpose: Any,
    prepared: PreparedCheck | None = None,
) -> dict[str, Any]:
    """The answer for an AI agent's turn: cached, invalidated on every change.

    A cache hit costs one round trip and no database query (`prepared`, for
    this very identity document: the API's authentication made that round
    trip already). Unknown subjects get the purpose's default.
    """
    actor.require(Perm.CONSENT_CHECK)
    if (
        prepared is not None
        and prepared.identity is identity
        and prepared.purpose == purpose
    ):
        claims, lookup = prepared.claims, prepared.lookup  # validated already
    else:
        claims = identity_claims(identity)
        if not isinstance(purpose, str) or not _SLUG.match(purpose):
            raise ValidationFailed("unknown purpose", field="purpose")
        lookup = Lookup(purpose, _claim_indexes(claims)).fetch()
    if lookup.answer is not None:
        return lookup.answer
    # Before reading: a change from now on retires this answer. Usually a
    # no-op, the fetch having created missing tokens already.
    lookup.ensure_tokens()
    facts = lookup.purpose_info
    if facts is None:
        try:
            facts = _purpose_facts(purpose)
        except ValidationFailed:
            lookup.forget_created_tokens()  # no keys for made-up purposes
            raise
        lookup.store_purpose_info(facts)
    row = _subject_and_state(claims, lookup.indexes, facts["id"])
    if row is None or row[1] is None:
        answer = _default_answer(purpose, facts)
    else:
        answer = {
            "allowed": row[1] == ConsentStatus.GRANTED,
            "state": row[1],
            "purpose": purpose,
            "policy_version": row[3],
            "since": _aware(row[2]).isoformat(),
        }
    subject_known = row is not None
    lookup.store_answer(
        answer, ANSWER_SECONDS if subject_known else UNKNOWN_SUBJECT_SECONDS
    )
    return answer


def _claim_indexes(claims: list[Claim]) -> list[str]:
    return [crypto.blind_index(kind, value, namespace=ns) for kind, ns, value in claims]


def _subject_and_state(
    claims: list[Claim], indexes: list[str], purpose_id: int
) -> tuple[Any, ...] | None:
    """(subject id, state, since, version label) in one query, or None.

    The subject is the owner of the first claim that matches, as in
    `subject_find`; the state is NULL when that subject never chose. Plain
    SQL because this runs on every cache miss of the hottest endpoint: one
    round trip, no model instances, no decryption. SQLite gives timestamps
    naive or as text; `_aware` reads every form.
    """
    params: list[Any] = [purpose_id]
    for (kind, namespace, _), index in zip(claims, indexes, strict=True):
        params += [kind, namespace, index]
    sql = _check_sql(len(claims))
    rows = {(r[0], r[1], r[2]): r[3:] for r in _check_rows(sql, params)}
    for (kind, namespace, _), index in zip(claims, indexes, strict=True):
        if (kind, namespace, index) in rows:
            return rows[(kind, namespace, index)]
    return None


@functools.cache
def _check_sql(claim_count: int) -> str:
    identifier = SubjectIdentifier._meta.db_table
    state = ConsentState._meta.db_table
    version = PolicyVersion._meta.db_table
    matches = " OR ".join(
        ["(si.kind = %s AND si.namespace = %s AND si.blind_index = %s)"] * claim_count
    )
    return (
        "SELECT si.kind, si.namespace, si.blind_index, si.subject_id, cs.state, "
        f"cs.since, pv.version FROM {identifier} si "
        f"LEFT JOIN {state} cs ON cs.subject_id = si.subject_id AND cs.purpose_id = %s "
        f"LEFT JOIN {version} pv ON pv.id = cs.policy_version_id WHERE {matches}"
    )


def _check_rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Run the check's query as a statement prepared once per connection
    (privacydesk.prepared): parsing and planning it cost PostgreSQL more
    than running it."""
    return prepared_rows(sql, params, name="consent_check")


def _aware(value: Any) -> datetime:
    """A timestamp from raw SQL (text, or naive from SQLite) as UTC."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if timezone.is_naive(value):
        return timezone.make_aware(value, UTC)
    return value.astimezone(UTC)
