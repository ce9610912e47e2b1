"""The audit log and the state of its hash chain."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse

from accounts.actors import Actor
from audit.selectors import audit_chain_verify, audit_event_list
from dashboard.views.common import actor_labels, page, staff_view

PAGE_SIZE = 50
REQUEST_OBJECT_TYPE = "dsr.request"
# How object types read to staff; anything else is shown as stored.
OBJECT_NAMES = {"accounts.apiclient": "API client", "dsr.requesttask": "Task"}


@staff_view
def audit_log(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Newest events first, with a check of the whole chain."""
    events = audit_event_list(actor=actor).order_by("-sequence")
    page_obj = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    labels = actor_labels(event.actor for event in page_obj)
    rows = [
        (
            event,
            labels.get(event.actor, event.actor),
            OBJECT_NAMES.get(event.object_type, event.object_type),
        )
        for event in page_obj
    ]
    return page(
        request,
        actor,
        "dashboard/audit_log.html",
        {
            "section": "audit",
            "page_obj": page_obj,
            "rows": rows,
            "chain": audit_chain_verify(),
            "request_object_type": REQUEST_OBJECT_TYPE,
        },
    )
