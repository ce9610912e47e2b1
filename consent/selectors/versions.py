"""Which policy version is in force: the one rule every read of it uses.

A purpose's current wording is its latest version whose `effective_at` has
come (a version may be entered ahead of its date). The consent check, the
consent page, renewals and the purposes API all read it from here.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils import timezone

from consent.models import PolicyVersion, Purpose


def policy_versions_in_force() -> QuerySet[PolicyVersion]:
    """Versions already effective, latest first: a purpose's first is its
    current one."""
    return PolicyVersion.objects.filter(effective_at__lte=timezone.now()).order_by(
        "-effective_at", "-id"
    )


def policy_versions_current(*, purposes: Iterable[Purpose]) -> dict[int, PolicyVersion]:
    """The current version of each purpose, in one query: purpose id -> version
    (a purpose with none in force is left out)."""
    current: dict[int, PolicyVersion] = {}
    for version in policy_versions_in_force().filter(purpose__in=list(purposes)):
        current.setdefault(version.purpose_id, version)
    return current
