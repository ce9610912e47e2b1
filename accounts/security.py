"""Staff sign-in state: the digest of a typed account name, and sessions
ended everywhere at once.

A session remembers when its user signed in; "log out everywhere" (or a
revocation in an access review) records a moment, and every session signed
in before it is ended on its next request (accounts.middleware). This works
with any session backend, without scanning the sessions of other users.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.sessions.backends.base import SessionBase
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import StaffSecurity

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

SIGNED_IN_AT = "pd_signed_in_at"


def login_name_digest(username: str) -> str:
    """A keyed digest of an account name as typed: failed sign-ins are counted
    and audited by it, so a name that is no account's is never stored."""
    normalised = username.strip().lower()
    return salted_hmac("privacydesk.login-name", normalised).hexdigest()[:32]


def axes_username(request: HttpRequest | None, credentials: dict[str, Any]) -> str:
    """django-axes' AXES_USERNAME_CALLABLE: the digest, not the name."""
    username = str((credentials or {}).get("username") or "")
    return login_name_digest(username) if username else ""


def session_mark_signed_in(session: SessionBase) -> None:
    """Note in a fresh session when its user signed in."""
    session[SIGNED_IN_AT] = timezone.now().timestamp()


def session_is_current(*, user: AbstractBaseUser, session: SessionBase) -> bool:
    """False when the user ended every session after this one signed in."""
    valid_after = (
        StaffSecurity.objects.filter(user_id=user.pk)
        .values_list("sessions_valid_after", flat=True)
        .first()
    )
    if valid_after is None:
        return True
    return float(session.get(SIGNED_IN_AT, 0)) > valid_after.timestamp()


def sessions_end_all(*, user: AbstractBaseUser) -> None:
    """End every session of `user`, on whatever device, from their next request."""
    StaffSecurity.objects.update_or_create(
        user_id=user.pk, defaults={"sessions_valid_after": timezone.now()}
    )
