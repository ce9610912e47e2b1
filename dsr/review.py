"""Which requests an officer reviews, from the settings (issue 16).

REVIEW_BEFORE_ERASURE: "off" (the default), "all" (every erasure request),
or a list of regimes (gdpr, uk_gdpr, ccpa) and/or kinds that change data
(erasure, rectification, restriction, objection). With regimes only, it
covers erasure requests under those regimes; with kinds only, requests of
those kinds under any regime; with both, those kinds under those regimes.
A covered request, once verified, waits for an officer's approval (with a
note) or rejection (with reasons) before any store is touched.

REVIEW_BEFORE_ACCESS_RELEASE: an access or portability package, once
built, is held until an officer has reviewed and released it.

Both are read when a request is taken in and fixed on it, so a change of
the settings does not move requests already under way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from dsr.choices import PACKAGE_KINDS, Regime, RequestKind

# The kinds that change a subject's data (access and portability only read
# it; their review is REVIEW_BEFORE_ACCESS_RELEASE).
REVIEWABLE_KINDS = frozenset(
    {
        RequestKind.ERASURE,
        RequestKind.RECTIFICATION,
        RequestKind.RESTRICTION,
        RequestKind.OBJECTION,
    }
)


@dataclass(frozen=True)
class WorkReview:
    """REVIEW_BEFORE_ERASURE, read: the kinds and regimes it covers."""

    kinds: frozenset[str]
    regimes: frozenset[str]

    def covers(self, *, kind: str, regime: str) -> bool:
        return kind in self.kinds and regime in self.regimes


def work_review_parse(words: list[str]) -> WorkReview:
    """Read the setting's words; an unknown one is a configuration error."""
    lowered = [word.strip().lower() for word in words if word.strip()]
    if not lowered or lowered == ["off"]:
        return WorkReview(frozenset(), frozenset())
    if lowered == ["all"]:
        return WorkReview(frozenset({RequestKind.ERASURE}), frozenset(Regime.values))
    kinds = {word for word in lowered if word in REVIEWABLE_KINDS}
    regimes = {word for word in lowered if word in Regime.values}
    unknown = sorted(set(lowered) - kinds - regimes)
    if unknown:
        raise ImproperlyConfigured(
            "REVIEW_BEFORE_ERASURE takes off, all, or regimes "
            f"({', '.join(Regime.values)}) and/or kinds "
            f"({', '.join(sorted(REVIEWABLE_KINDS))}); got {', '.join(unknown)}"
        )
    return WorkReview(
        frozenset(kinds or {RequestKind.ERASURE}),
        frozenset(regimes or Regime.values),
    )


@cache
def _work_review(words: tuple[str, ...]) -> WorkReview:
    return work_review_parse(list(words))


def review_before_work(*, kind: str, regime: str) -> bool:
    """Whether a request of this kind and regime waits for an officer's
    review once verified (REVIEW_BEFORE_ERASURE)."""
    rule = _work_review(tuple(settings.REVIEW_BEFORE_ERASURE))
    return rule.covers(kind=kind, regime=regime)


def review_before_release(*, kind: str) -> bool:
    """Whether the request's access package is held for an officer's release
    (REVIEW_BEFORE_ACCESS_RELEASE)."""
    return bool(settings.REVIEW_BEFORE_ACCESS_RELEASE) and kind in PACKAGE_KINDS
