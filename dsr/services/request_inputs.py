"""The input rules of a request's writes: choices, corrections, the time it
arrived and the reasons staff give, each error naming its field."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Choices
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from dsr.choices import RequestKind
from privacydesk.errors import ValidationFailed

MAX_CORRECTIONS = 50


def choice_clean(value: Any, choices: type[Choices], field: str) -> str:
    """`value` if it is one of `choices`, else ValidationFailed on `field`."""
    if value not in choices.values:
        raise ValidationFailed(
            f"must be one of {', '.join(choices.values)}", field=field
        )
    return str(value)


def request_corrections_clean(*, kind: str, corrections: Any) -> dict[str, str] | None:
    """The corrections a request of this kind may carry, cleaned: the one rule,
    which request_create applies and both front doors' forms call.

    A rectification needs at least one correction (field name -> what it
    should say); any other kind takes none, so a stray correction is refused,
    never silently dropped. Errors name `corrections` or `corrections.<name>`.
    """
    if kind != RequestKind.RECTIFICATION:
        if corrections:
            raise ValidationFailed(
                "only a request to correct data takes a correction; leave it "
                "empty for this kind of request",
                field="corrections",
            )
        return None
    if not isinstance(corrections, dict) or not corrections:
        raise ValidationFailed(
            "say what is wrong and what it should say, so it can be corrected",
            field="corrections",
        )
    if len(corrections) > MAX_CORRECTIONS:
        raise ValidationFailed(f"at most {MAX_CORRECTIONS} fields", field="corrections")
    clean: dict[str, str] = {}
    for name, value in corrections.items():
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ValidationFailed("field names are short strings", field="corrections")
        if not isinstance(value, str) or len(value) > 2000:
            raise ValidationFailed("must be a string", field=f"corrections.{name}")
        clean[name.strip()] = value
    return clean


def received_at_clean(actor: Actor, received_at: datetime | None) -> datetime:
    """When the request arrived: now, or an earlier aware time that only an
    actor who may back-date requests gives."""
    now = timezone.now()
    if received_at is None:
        return now
    actor.require(Perm.REQUEST_SET_RECEIVED_AT)
    if timezone.is_naive(received_at):
        raise ValidationFailed("must include a time zone", field="received_at")
    if received_at > now + timedelta(minutes=5):
        raise ValidationFailed("cannot be in the future", field="received_at")
    return received_at


def reason_clean(
    reason: str | None, *, field: str = "reason", required: bool = True
) -> str:
    """A reason staff give, trimmed: a few words at least when `required`."""
    text = (reason or "").strip()
    if required and len(text) < 5:
        raise ValidationFailed("give a reason (at least a few words)", field=field)
    if len(text) > 5000:
        raise ValidationFailed("at most 5000 characters", field=field)
    return text
