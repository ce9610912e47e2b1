"""Anomaly alerts: open ones first, each acknowledged with a note."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from accounts.actors import Actor
from accounts.permissions import Perm
from alerts.models import Alert
from alerts.selectors import alert_get, alert_list, monitor_state
from alerts.services import alert_acknowledge
from dashboard.forms.alerts import AcknowledgeForm
from dashboard.views.common import actor_labels, page, staff_view
from dsr.models import Request
from privacydesk.errors import IllegalTransition, ValidationFailed

ALERTS_PER_PAGE = 50


def _references(alerts: list[Alert]) -> dict[str, str]:
    """Request references for the request ids alerts name (no identities)."""
    ids: set[str] = set()
    for alert in alerts:
        if alert.subject_kind == "request":
            ids.add(alert.subject)
        for key in ("requests", "objects"):
            for value in alert.details.get(key, []):
                ids.add(str(value).rpartition(":")[2])
    valid = [value for value in ids if len(value) == 36]
    return {
        str(public_id): reference
        for public_id, reference in Request.objects.filter(
            public_id__in=valid
        ).values_list("public_id", "reference")
    }


def _rows(alerts: list[Alert]) -> list[dict[str, Any]]:
    refs = _references(alerts)
    people = actor_labels(
        f"{alert.subject_kind}:{alert.subject}"
        for alert in alerts
        if alert.subject_kind in ("user", "client")
    )
    rows = []
    for alert in alerts:
        sample = [
            str(value).rpartition(":")[2]
            for key in ("requests", "objects")
            for value in alert.details.get(key, [])
        ]
        rows.append(
            {
                "alert": alert,
                "who": people.get(f"{alert.subject_kind}:{alert.subject}"),
                "request_reference": refs.get(alert.subject),
                "references": sorted({refs[i] for i in sample if i in refs}),
            }
        )
    return rows


def _page(
    request: HttpRequest,
    actor: Actor,
    *,
    form: AcknowledgeForm | None = None,
    form_for: str = "",
    status: int = 200,
) -> HttpResponse:
    alerts = alert_list(actor=actor)
    page_obj = Paginator(alerts, ALERTS_PER_PAGE).get_page(request.GET.get("page"))
    return page(
        request,
        actor,
        "dashboard/alerts.html",
        {
            "section": "alerts",
            "page_obj": page_obj,
            "rows": _rows(list(page_obj)),
            "open_count": alerts.filter(acknowledged_at__isnull=True).count(),
            "can_acknowledge": actor.can(Perm.ALERTS_ACKNOWLEDGE),
            "form": form or AcknowledgeForm(),
            "form_for": form_for,
            "state": monitor_state(),
        },
        status=status,
    )


@require_GET
@staff_view
def alert_list_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _page(request, actor)


@require_POST
@staff_view
def alert_acknowledge_view(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    try:
        alert = alert_get(actor=actor, public_id=str(public_id))
    except Alert.DoesNotExist as missing:
        raise Http404("no such alert") from missing
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            alert_acknowledge(actor=actor, alert=alert, note=form.cleaned_data["note"])
        except ValidationFailed as error:
            form.add_service_error(error)
        except IllegalTransition as error:
            messages.error(request, error.message)
            return redirect("dashboard:alert_list")
        else:
            messages.success(request, f"Acknowledged: {alert.get_rule_display()}.")
            return redirect("dashboard:alert_list")
    return _page(request, actor, form=form, form_for=str(alert.public_id), status=400)
