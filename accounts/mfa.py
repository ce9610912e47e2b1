"""Staff second factor: a TOTP authenticator app and single-use recovery codes
(django-otp's TOTP and static devices). No audit events here: accounts sits
below audit; audit.staff records them around these calls.

A staff member has at most one confirmed TOTP device and one set of
recovery codes. Enrolling makes an unconfirmed device (kept across page
reloads, so the QR code does not change) that a correct code confirms;
confirming replaces any earlier device and issues fresh recovery codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from django.conf import settings
from django.db import transaction
from django_otp import verify_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.actors import Actor, staff_role
from accounts.permissions import Perm

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

TOTP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
MfaMethod = Literal["totp", "recovery_code"]


def mfa_required(user: AbstractBaseUser) -> bool:
    """Must this staff member sign in with a second factor (STAFF_MFA_*)?"""
    if not settings.STAFF_MFA_REQUIRED:
        return False
    role = staff_role(user)  # type: ignore[arg-type]  # a User, typed as its base
    return role is not None and role in set(settings.STAFF_MFA_ROLES)


def mfa_enabled(user: AbstractBaseUser) -> bool:
    """Has this person a confirmed authenticator app?"""
    return bool(TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists())


def recovery_codes_left(user: AbstractBaseUser) -> int:
    return int(
        StaticToken.objects.filter(
            device__user_id=user.pk, device__confirmed=True
        ).count()
    )


def totp_enrolment_device(*, user: AbstractBaseUser) -> TOTPDevice:
    """The device being enrolled: made on the first call, the same until confirmed."""
    device = (
        TOTPDevice.objects.filter(user_id=user.pk, confirmed=False)
        .order_by("-pk")
        .first()
    )
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


@dataclass(frozen=True)
class Enrolment:
    device: TOTPDevice
    recovery_codes: list[str]  # shown once, never again


def _recovery_codes_replace(user: AbstractBaseUser) -> list[str]:
    StaticDevice.objects.filter(user_id=user.pk).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes: set[str] = set()
    while len(codes) < settings.STAFF_MFA_RECOVERY_CODES:
        codes.add(StaticToken.random_token())
    StaticToken.objects.bulk_create(
        [StaticToken(device=device, token=code) for code in sorted(codes)]
    )
    return sorted(codes)


def _normalised(token: str) -> str:
    return "".join(token.split()).replace("-", "").lower()


@transaction.atomic
def totp_enrol_confirm(*, user: AbstractBaseUser, token: str) -> Enrolment | None:
    """Confirm the device being enrolled with a code it shows; None if wrong.

    A confirmed device replaces any earlier one, with new recovery codes."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user_id=user.pk, confirmed=False)
        .order_by("-pk")
        .first()
    )
    if device is None or not device.verify_token(_normalised(token)):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user_id=user.pk).exclude(pk=device.pk).delete()
    return Enrolment(device=device, recovery_codes=_recovery_codes_replace(user))


@transaction.atomic
def recovery_codes_regenerate(*, user: AbstractBaseUser) -> list[str]:
    """New recovery codes (the old ones stop working); only with an app enrolled."""
    if not mfa_enabled(user):
        return []
    return _recovery_codes_replace(user)


@dataclass(frozen=True)
class MfaCheck:
    device: Device | None
    method: MfaMethod | None
    recovery_codes_left: int

    @property
    def ok(self) -> bool:
        return self.device is not None


def mfa_check(*, user: AbstractBaseUser, token: str) -> MfaCheck:
    """Check a code from the app, or a recovery code (used up by a success).

    django-otp throttles each device after a failure (doubling delays)."""
    token = _normalised(token)
    method: MfaMethod = "totp" if token.isdigit() else "recovery_code"
    model: type[Device] = TOTPDevice if method == "totp" else StaticDevice
    accepted: Device | None = None
    if token:
        for device in model.objects.filter(user_id=user.pk, confirmed=True):
            accepted = verify_token(user, device.persistent_id, token)
            if accepted is not None:
                break
    return MfaCheck(
        device=accepted,
        method=method if accepted is not None else None,
        recovery_codes_left=recovery_codes_left(user),
    )


@transaction.atomic
def mfa_reset(*, actor: Actor, user: AbstractBaseUser) -> int:
    """Remove a person's authenticator and recovery codes (a lost phone); they
    enrol again at their next sign-in when a second factor is required."""
    actor.require(Perm.STAFF_SECURITY_MANAGE)
    removed = TOTPDevice.objects.filter(user_id=user.pk).delete()[0]
    removed += StaticDevice.objects.filter(user_id=user.pk).delete()[0]
    return int(removed)
