"""Six-digit codes e-mailed to a person, checked with a counted attempt.

The rules every code follows, whatever it unlocks (a request's verification,
its package download, the customer's privacy choices): a fresh random code;
only a keyed hash stored; each check counts its attempt in one conditional
UPDATE, so concurrent wrong guesses are all counted and never pass
PORTAL_CODE_MAX_ATTEMPTS; a matched code is spent once. The model holding a
code has `code_hash`, `expires_at`, `attempts` and `used_at`.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.db.models import F, QuerySet
from django.utils import timezone

from privacydesk import crypto
from privacydesk.errors import ValidationFailed

CODE_DIGITS = 6


class CodeHolder(Protocol):
    """A model row holding one code (a request's challenge, a choices code)."""

    pk: Any
    code_hash: str
    attempts: int
    expires_at: datetime
    used_at: datetime | None

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None: ...


def _row(holder: CodeHolder) -> QuerySet[Any]:
    """The holder's own row, for a conditional UPDATE (a model instance)."""
    return type(holder)._default_manager.filter(pk=holder.pk)  # type: ignore[attr-defined]


def code_new() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(code: str, *, purpose: str) -> str:
    """The stored form of a code, salted by what it unlocks."""
    return crypto.keyed_hash(code, purpose=purpose)


def code_clean(code: str | None) -> str:
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == CODE_DIGITS):
        raise ValidationFailed("the code is the 6 digits from the e-mail", field="code")
    return code


class CodeRefused(ValidationFailed):
    """A code that did not open anything, and why: "wrong", or it can no
    longer be checked: "used", "expired", "locked" (too many wrong codes)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, field="code")
        self.reason = reason


def code_refusal(holder: CodeHolder | None) -> CodeRefused:
    """Why a code cannot be checked any more: used, expired or locked."""
    if holder is not None and holder.used_at is not None:
        return CodeRefused(
            "this code was used already; ask for a new one", reason="used"
        )
    if holder is None or holder.expires_at <= timezone.now():
        return CodeRefused("this code has expired; ask for a new one", reason="expired")
    return CodeRefused("too many wrong codes; ask for a new one", reason="locked")


def code_check(holder: CodeHolder, *, code: str, expected_hash: str) -> None:
    """Count one attempt at `holder`'s code and raise unless `code` matches.

    Call it outside a transaction that a refusal would roll back: the attempt
    is counted in its own statement, so a wrong code counts even though the
    check then raises."""
    counted = (
        _row(holder)
        .filter(
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            attempts__lt=settings.PORTAL_CODE_MAX_ATTEMPTS,
        )
        .update(attempts=F("attempts") + 1)
    )
    if counted != 1:
        holder.refresh_from_db()
        raise code_refusal(holder)
    if not hmac.compare_digest(holder.code_hash, expected_hash):
        holder.refresh_from_db(fields=["attempts"])
        left = max(settings.PORTAL_CODE_MAX_ATTEMPTS - holder.attempts, 0)
        raise CodeRefused(f"that code is not right ({left} tries left)", reason="wrong")


def code_spend(holder: CodeHolder, *, now: datetime | None = None) -> None:
    """Spend a matched code, once: a second use (two tabs at once) is refused.
    Call it in the transaction of what the code unlocks."""
    used = (
        _row(holder).filter(used_at__isnull=True).update(used_at=now or timezone.now())
    )
    if used != 1:
        raise ValidationFailed("this code was used already", field="code")


def resend_wait_seconds(last_sent_at: datetime | None) -> int:
    """Seconds left before another code may be sent (0: send now)."""
    if last_sent_at is None:
        return 0
    elapsed = (timezone.now() - last_sent_at).total_seconds()
    return max(settings.PORTAL_CODE_RESEND_SECONDS - int(elapsed), 0)
