"""What every dashboard page shares: who is asking, the layout, the 403 page."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable, Iterable
from datetime import date
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from accounts.actors import Actor, actor_for_user, staff_role
from accounts.choices import Role
from accounts.models import ApiClient
from accounts.permissions import Perm
from alerts.selectors import alerts_open_count
from connectors.selectors import connector_names
from dsr.clock import controller_zone, days_left, local_today
from dsr.models import Request
from dsr.selectors import request_references
from privacydesk.errors import NotPermitted
from retention.selectors import policies_needing_attention
from subjects.models import DataSubject

# A file download (FileResponse) is a response too, not an HttpResponse.
StaffView = Callable[..., HttpResponseBase]


def layout_context(request: HttpRequest, actor: Actor | None) -> dict[str, Any]:
    """The header: navigation limited to what this person may use."""
    role = staff_role(request.user) if request.user.is_authenticated else None

    def can(perm: Perm) -> bool:
        return actor is not None and actor.can(perm)

    return {
        "actor": actor,
        "role_label": Role(role).label if role else "",
        "nav": {
            "queue": can(Perm.REQUEST_VIEW),
            "new": can(Perm.REQUEST_CREATE),
            "audit": can(Perm.AUDIT_VIEW),
            "clients": can(Perm.CLIENTS_MANAGE),
            "connectors": can(Perm.CONNECTORS_VIEW),
            "retention": can(Perm.RETENTION_VIEW),
            "consent": can(Perm.CONSENT_VIEW),
            "training": can(Perm.TRAINING_VIEW),
            "security": can(Perm.ACCESS_REVIEW_VIEW),
            "staff": can(Perm.STAFF_SECURITY_MANAGE),
            "records": can(Perm.GOVERNANCE_VIEW),
            "alerts": can(Perm.ALERTS_VIEW),
            "breaches": can(Perm.BREACH_VIEW),
        },
        "retention_failing": _retention_failing() if can(Perm.RETENTION_VIEW) else 0,
        "alerts_open": alerts_open_count() if can(Perm.ALERTS_VIEW) else 0,
        "controller_time_zone": settings.CONTROLLER_TIME_ZONE,
    }


def _retention_failing() -> int:
    """Policies whose last real run failed: the banner on every page."""
    return policies_needing_attention().count()


def page(
    request: HttpRequest,
    actor: Actor | None,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        template,
        {**layout_context(request, actor), **(context or {})},
        status=status,
    )


def forbidden(request: HttpRequest, actor: Actor | None, reason: str) -> HttpResponse:
    return page(request, actor, "dashboard/403.html", {"reason": reason}, status=403)


def staff_view(view: StaffView) -> StaffView:
    """Log in first, have a staff role, act as that person; 403 when refused.

    Pages are rendered in the controller's time zone, the one the legal clock
    runs in, and never cached (they show personal data).
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        response: HttpResponseBase
        with timezone.override(controller_zone()):
            if staff_role(request.user) is None:
                response = forbidden(
                    request,
                    None,
                    "Your account has no staff role. Ask an administrator to give "
                    "you one.",
                )
            else:
                actor = actor_for_user(request.user)
                try:
                    response = view(request, actor, *args, **kwargs)
                except NotPermitted as error:
                    response = forbidden(request, actor, error.message)
        add_never_cache_headers(response)
        return response

    return wrapper


def deadline_state(
    dsr_request: Request, *, today: date | None = None
) -> dict[str, Any]:
    """How urgent a request is, for the colour and wording of its due date."""
    if not dsr_request.is_open:
        return {"state": "closed", "days": None, "label": "Closed"}
    days = days_left(dsr_request, today=today or local_today())
    if days < 0:
        state = "overdue"
        label = f"{-days} day{'s' if days != -1 else ''} overdue"
    elif days == 0:
        state, label = "soon", "Due today"
    else:
        state = "soon" if days <= settings.DEADLINE_DUE_SOON_DAYS else "ok"
        label = f"{days} day{'s' if days != 1 else ''} left"
    return {"state": state, "days": days, "label": label}


def actor_labels(refs: Iterable[str]) -> dict[str, str]:
    """Readable names for audit actor refs ("user:12" -> "olivia.officer").

    Staff and API clients are named; anything else is shown as stored. Only
    staff and client names are looked up, never a data subject's identity.
    """
    refs = {ref for ref in refs if ref}
    user_ids = {ref.split(":", 1)[1] for ref in refs if ref.startswith("user:")}
    client_ids = {ref.split(":", 1)[1] for ref in refs if ref.startswith("client:")}
    names: dict[str, str] = {}
    if user_ids:
        user_model = get_user_model()
        valid = [int(pk) for pk in user_ids if pk.isdigit()]
        for pk, username in user_model.objects.filter(pk__in=valid).values_list(
            "pk", user_model.USERNAME_FIELD
        ):
            names[f"user:{pk}"] = username
    client_uuids = [_uuid_or_none(value) for value in client_ids]
    if any(client_uuids):
        for public_id, name in ApiClient.objects.filter(
            public_id__in=[value for value in client_uuids if value]
        ).values_list("public_id", "name"):
            names[f"client:{public_id}"] = f"API: {name}"
    by_kind: dict[str, list[str]] = {}
    for ref in refs:
        kind, _, rest = ref.partition(":")
        by_kind.setdefault(kind, []).append(rest)
    connectors = connector_names(public_ids=by_kind.get("connector", []))
    references = request_references(public_ids=by_kind.get("subject", []))
    for ref in refs:
        if ref in names:
            continue
        kind, _, rest = ref.partition(":")
        if kind == "system":
            names[ref] = f"system ({rest})"
        elif kind == "subject":
            # The portal acting for the subject of one request.
            reference = references.get(rest)
            names[ref] = (
                f"the data subject of {reference}" if reference else "the data subject"
            )
        elif kind == "data_subject":
            subject_id = _uuid_or_none(rest)
            names[ref] = (
                f"the data subject {DataSubject(public_id=subject_id).pseudonym}"
                if subject_id
                else "the data subject"
            )
        elif kind == "connector":
            names[ref] = f"connector {connectors[rest]}" if rest in connectors else ref
        else:
            names[ref] = ref
    return names


# A cell a spreadsheet would run as a formula (CSV injection): quoted.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_response(
    filename: str, header: list[str], rows: Iterable[list[Any]]
) -> HttpResponse:
    """A CSV download: UTF-8, one header row, text that a spreadsheet would
    take for a formula quoted."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return response


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
