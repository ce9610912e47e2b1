"""The audited actions on staff and API clients.

accounts sits below audit and records nothing; these are the entry points
that front doors, commands and domain services call, each doing the accounts
write and recording its audit event in one transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.actors import Actor
from accounts.mfa import (
    Enrolment,
    MfaCheck,
    mfa_check,
    mfa_reset,
    recovery_codes_regenerate,
    totp_enrol_confirm,
)
from accounts.models import ApiClient
from accounts.security import login_name_digest, sessions_end_all
from accounts.services import (
    api_client_cache_refresh,
    api_client_row_create,
    api_client_row_revoke,
)
from audit.models import AuditEvent
from audit.services import audit_record

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from connectors.models import Connector

# Who fails to sign in is not known: the attempt is recorded under this ref,
# with the account's id when the name typed is one, else a keyed digest.
ANONYMOUS = "anonymous:sign-in"


@transaction.atomic
def api_client_create(
    *,
    actor: Actor,
    name: str,
    scopes: list[str],
    connector: Connector | None = None,
) -> tuple[ApiClient, str]:
    """Create a client and return it with its token, shown this once only.

    A pull agent's client is bound to one `connector` and holds only the
    agent scope (accounts.services.api_client_row_create has the rules)."""
    client, token = api_client_row_create(
        actor=actor, name=name, scopes=scopes, connector=connector
    )
    audit_record(
        actor=actor,
        action="api_client.created",
        obj=client,
        data={
            "scopes": client.scopes,
            **({"connector": connector.name} if connector is not None else {}),
        },
    )
    return client, token


@transaction.atomic
def api_client_revoke(*, actor: Actor, client: ApiClient) -> ApiClient:
    """Revoke a client's token; refused when it is revoked already."""
    client = api_client_row_revoke(actor=actor, client=client)
    audit_record(actor=actor, action="api_client.revoked", obj=client, data={})
    return client


def staff_login_record(*, actor: Actor, second_factor: str = "none") -> None:
    """A staff member's password was accepted; `second_factor` says what
    follows: "none", or "pending" (their authenticator is asked next)."""
    audit_record(
        actor=actor,
        action="staff.login",
        obj=None,
        data={"second_factor": second_factor},
    )


def staff_logout_record(*, actor: Actor) -> None:
    audit_record(actor=actor, action="staff.logout", obj=None, data={})


def _attempted(username: str) -> tuple[AbstractBaseUser | None, dict[str, Any]]:
    """The account a sign-in named, or the name's digest: never the raw name
    of someone who has no account (a mistyped password, an e-mail address)."""
    user_model = get_user_model()
    user = user_model._default_manager.filter(
        **{f"{user_model.USERNAME_FIELD}__iexact": username.strip()}
    ).first()
    if user is not None:
        return user, {"user": user.pk}
    return None, {"username_digest": login_name_digest(username)}


def staff_login_failed_record(
    *, username: str, locked_out: bool, failure_limit: int
) -> AuditEvent:
    """A failed sign-in, and the lockout it caused or ran into."""
    user, who = _attempted(username)
    event = audit_record(
        actor=ANONYMOUS,
        action="staff.login_failed",
        obj=user,
        data={**who, "locked_out": locked_out},
    )
    if locked_out:
        event = audit_record(
            actor=ANONYMOUS,
            action="staff.lockout",
            obj=user,
            data={**who, "failure_limit": failure_limit},
        )
    return event


@transaction.atomic
def staff_mfa_enrol(
    *, actor: Actor, user: AbstractBaseUser, token: str
) -> Enrolment | None:
    """Confirm an authenticator app with a code from it; a wrong code is
    audited as a failure."""
    enrolment = totp_enrol_confirm(user=user, token=token)
    if enrolment is None:
        audit_record(
            actor=actor, action="staff.mfa_failed", obj=user, data={"step": "enrol"}
        )
        return None
    audit_record(
        actor=actor,
        action="staff.mfa_enrolled",
        obj=user,
        data={"recovery_codes": len(enrolment.recovery_codes)},
    )
    return enrolment


def staff_mfa_verify(*, actor: Actor, user: AbstractBaseUser, token: str) -> MfaCheck:
    """The second step of a sign-in: a code from the app or a recovery code."""
    check = mfa_check(user=user, token=token)
    with transaction.atomic():
        if not check.ok:
            audit_record(
                actor=actor,
                action="staff.mfa_failed",
                obj=user,
                data={"step": "sign-in"},
            )
        elif check.method == "recovery_code":
            audit_record(
                actor=actor,
                action="staff.mfa_recovery_code_used",
                obj=user,
                data={"recovery_codes_left": check.recovery_codes_left},
            )
        else:
            audit_record(
                actor=actor,
                action="staff.mfa_verified",
                obj=user,
                data={"method": check.method},
            )
    return check


@transaction.atomic
def staff_recovery_codes_regenerate(
    *, actor: Actor, user: AbstractBaseUser
) -> list[str]:
    codes = recovery_codes_regenerate(user=user)
    if codes:
        audit_record(
            actor=actor,
            action="staff.mfa_recovery_codes_issued",
            obj=user,
            data={"recovery_codes": len(codes)},
        )
    return codes


@transaction.atomic
def staff_mfa_reset(*, actor: Actor, user: AbstractBaseUser) -> int:
    """An administrator removes someone's second factor (a lost phone)."""
    removed = mfa_reset(actor=actor, user=user)
    sessions_end_all(user=user)
    audit_record(
        actor=actor, action="staff.mfa_reset", obj=user, data={"devices": removed}
    )
    return removed


@transaction.atomic
def staff_logout_everywhere(*, actor: Actor, user: AbstractBaseUser) -> None:
    """End every session of `user` (this one included) on every device."""
    sessions_end_all(user=user)
    audit_record(actor=actor, action="staff.logout_everywhere", obj=user, data={})


def api_client_scope_use_note(*, client: ApiClient, scope: str) -> bool:
    """Note that a client called the API with `scope`; the first use of each
    scope is an audit event (`api_client.scope_first_used`). True when this
    was the first. Costs nothing once the client's row, which the bearer
    authentication caches, lists the scope."""
    if scope in client.scopes_used:
        return False
    with transaction.atomic():
        row = ApiClient.objects.select_for_update().filter(pk=client.pk).first()
        if row is None:
            return False
        if scope in row.scopes_used:
            client.scopes_used = row.scopes_used
            api_client_cache_refresh(client=row)
            return False
        row.scopes_used = sorted({*row.scopes_used, scope})
        ApiClient.objects.filter(pk=row.pk).update(scopes_used=row.scopes_used)
        audit_record(
            actor=f"client:{row.public_id}",
            action="api_client.scope_first_used",
            obj=row,
            data={"scope": scope},
        )
        # The cached row the next calls authenticate with lists it now.
        api_client_cache_refresh(client=row)
    client.scopes_used = row.scopes_used
    return True
