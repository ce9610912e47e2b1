"""The request queue, entering a request, one request's page and its actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.selectors import audit_events_for_object
from audit.services import audit_export_record
from dashboard.forms.requests import (
    OPEN,
    ApproveForm,
    AssignForm,
    CancelForm,
    CloseForm,
    ExtendForm,
    NoteForm,
    PauseForm,
    QueueFilterForm,
    RejectForm,
    ReleasePackageForm,
    RequestNewForm,
    ResumeForm,
    SendAgainForm,
    VerifyForm,
)
from dashboard.views.agents import agent_context
from dashboard.views.common import (
    actor_labels,
    csv_response,
    deadline_state,
    page,
    staff_view,
)
from dashboard.views.recipients import recipients_context
from dashboard.views.tasks import action_label, tasks_context
from dsr.choices import OPEN_STATUSES
from dsr.clock import local_today
from dsr.lifecycle import (
    REQUEST_ACTION_RULES,
    RequestAction,
    request_action_refusals,
    request_available_actions,
    request_awaiting_review,
    request_clock_paused,
)
from dsr.models import Request
from dsr.packages.selectors import (
    access_package_for_request,
    access_package_letter_available,
)
from dsr.regimes import supervisory_authority
from dsr.selectors import request_get, request_list, request_work
from dsr.services.clock import request_extend, request_pause, request_resume
from dsr.services.execution.planning import request_replan
from dsr.services.package_reviews import access_package_release
from dsr.services.requests import (
    request_add_note,
    request_approve,
    request_assign,
    request_cancel,
    request_close,
    request_create,
    request_reject,
    request_verify,
)
from privacydesk.errors import IllegalTransition, ValidationFailed
from privacydesk.forms import ServiceErrorsMixin

PAGE_SIZE = 50
REFRESH_SECONDS = 30


# --- Queue -------------------------------------------------------------------


def _queue_counts(actor: Actor) -> dict[str, int]:
    soon = settings.DEADLINE_DUE_SOON_DAYS
    overdue = request_list(actor=actor, overdue=True).count()
    return {
        "open": request_list(actor=actor).filter(status__in=OPEN_STATUSES).count(),
        "due_soon": request_list(actor=actor, due_within_days=soon).count() - overdue,
        "overdue": overdue,
        "due_soon_days": soon,
        "awaiting_review": request_list(actor=actor, awaiting_review=True).count(),
    }


def _filter_errors(form: QueueFilterForm) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label or name.replace("_", " ").capitalize()
        parts.append(f"{label}: {' '.join(str(error) for error in errors)}")
    return "Some filters were ignored. " + " ".join(parts)


@dataclass(frozen=True)
class QueueQuery:
    """The queue's filters as they apply, and the requests they select."""

    form: QueueFilterForm
    chosen: dict[str, Any]
    requests: QuerySet[Request]
    filtered: bool
    searched_all: bool  # a reference search looked past the open requests


def _queue_query(request: HttpRequest, actor: Actor) -> QueueQuery:
    data = request.GET.copy()
    data.setdefault("status", OPEN)
    form = QueueFilterForm(data)
    # Only the fields that validated apply; an invalid one is reported once,
    # at the top, and the filter bar shows what is really in force.
    form.is_valid()
    chosen = dict(form.cleaned_data)
    if form.errors:
        messages.warning(request, _filter_errors(form))
        chosen.setdefault("status", OPEN)
    status = chosen.get("status")
    # A reference names one request, open or closed: "open" is only the
    # default view, so a search looks at every status (one chosen on
    # purpose, "cancelled" say, still applies).
    searched_all = bool(chosen.get("q")) and status == OPEN
    if searched_all:
        chosen["status"] = status = ""
    if form.errors or searched_all:
        form = QueueFilterForm(initial=chosen)
    try:
        requests = request_list(
            actor=actor,
            status=None if status == OPEN else status,
            kind=chosen.get("kind") or None,
            regime=chosen.get("regime") or None,
            due_within_days=chosen.get("due_within"),
            overdue=bool(chosen.get("overdue")),
            search=chosen.get("q") or None,
            assignee_id=actor.user_id if chosen.get("mine") else None,
            awaiting_review=bool(chosen.get("review")),
        )
    except ValidationFailed as error:
        messages.warning(request, f"Some filters were ignored: {error.message}")
        requests = request_list(actor=actor)
    if status == OPEN:
        requests = requests.filter(status__in=OPEN_STATUSES)
    filtered = (
        any(
            chosen.get(name)
            for name in ("kind", "regime", "overdue", "q", "mine", "review")
        )
        or chosen.get("due_within") is not None
        or status not in (OPEN, None)
    )
    return QueueQuery(form, chosen, requests, filtered, searched_all)


@staff_view
def queue(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Every request by due date, with counts and filters."""
    query = _queue_query(request, actor)
    page_obj = Paginator(query.requests, PAGE_SIZE).get_page(request.GET.get("page"))
    today = local_today()
    rows = [(item, deadline_state(item, today=today)) for item in page_obj]
    waiting = set(
        request_list(actor=actor, awaiting_review=True)
        .filter(pk__in=[item.pk for item in page_obj])
        .values_list("pk", flat=True)
    )
    export = request.GET.copy()
    export.pop("page", None)
    return page(
        request,
        actor,
        "dashboard/queue.html",
        {
            "section": "queue",
            "form": query.form,
            "page_obj": page_obj,
            "rows": rows,
            "waiting_review": waiting,
            "counts": _queue_counts(actor),
            "filtered": query.filtered,
            "searched_all": query.searched_all,
            "can_create": actor.can(Perm.REQUEST_CREATE),
            "export_query": export.urlencode(),
        },
    )


QUEUE_CSV_COLUMNS = [
    "reference",
    "kind",
    "regime",
    "channel",
    "status",
    "received_at",
    "due_on",
    "days_left",
    "extended",
    "clock_paused",
    "assignee",
    "closed_at",
]


@require_GET
@staff_view
def queue_csv(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The queue as filtered, every page, as CSV (no personal data: the
    reference stands for the subject). The export is audited."""
    query = _queue_query(request, actor)
    today = local_today()
    rows = []
    for item in query.requests.iterator(chunk_size=500):
        deadline = deadline_state(item, today=today)
        rows.append(
            [
                item.reference,
                item.kind,
                item.regime,
                item.channel,
                item.status,
                timezone.localtime(item.received_at).isoformat(),
                item.due_on.isoformat(),
                "" if deadline["days"] is None else deadline["days"],
                "yes" if item.is_extended else "no",
                "yes" if getattr(item, "clock_paused", False) else "no",
                item.assignee.get_username() if item.assignee else "",
                timezone.localtime(item.closed_at).isoformat()
                if item.closed_at
                else "",
            ]
        )
    audit_export_record(
        actor=actor, what="requests", rows=len(rows), filters=_csv_filters(query)
    )
    return csv_response(f"requests-{today.isoformat()}.csv", QUEUE_CSV_COLUMNS, rows)


def _csv_filters(query: QueueQuery) -> dict[str, Any]:
    return {
        name: value
        for name, value in query.chosen.items()
        if value not in (None, "", False)
    }


# --- New request ---------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_view
def request_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Enter a request that came by post, e-mail or phone."""
    actor.require(Perm.REQUEST_CREATE)  # show the 403 page before the form
    form = RequestNewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = request_create(
                actor=actor, channel="dashboard", **form.service_kwargs()
            )
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                f"Request {created.reference} recorded; it is due on "
                f"{created.due_on:%-d %B %Y}.",
            )
            return redirect("dashboard:request_detail", public_id=created.public_id)
    return page(
        request, actor, "dashboard/request_new.html", {"section": "new", "form": form}
    )


# --- One request ---------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One button on the request page: its form, its service and its wording.
    Whether it is shown, and who may use it, is dsr.lifecycle's."""

    form: type[ServiceErrorsMixin]
    run: Callable[[Actor, Request, dict[str, Any]], Any]
    done: Callable[[Any], str]


# The request actions staff take on this page (the subject's own ones are
# the portal's).
ACTIONS: dict[str, Action] = {
    RequestAction.VERIFY: Action(
        VerifyForm,
        lambda a, r, d: request_verify(actor=a, request=r, method=d["method"]),
        lambda r: (
            f"Identity verified; the request is now {r.get_status_display().lower()}."
        ),
    ),
    RequestAction.APPROVE: Action(
        ApproveForm,
        lambda a, r, d: request_approve(actor=a, request=r, note=d["note"]),
        lambda r: "Request approved; processing has started.",
    ),
    RequestAction.RELEASE_PACKAGE: Action(
        ReleasePackageForm,
        lambda a, r, d: access_package_release(actor=a, request=r, note=d["note"]),
        lambda outcome: (
            "Package released; the requester is being told it is ready "
            f"(request {outcome.replace('_', ' ')})."
        ),
    ),
    RequestAction.REJECT: Action(
        RejectForm,
        lambda a, r, d: request_reject(
            actor=a, request=r, reason=d["reason"], basis=d["basis"]
        ),
        lambda r: (
            "Request rejected; the requester is being told why and of their rights."
        ),
    ),
    RequestAction.EXTEND: Action(
        ExtendForm,
        lambda a, r, d: request_extend(actor=a, request=r, reason=d["reason"]),
        lambda r: (
            f"Deadline extended to {r.due_on:%-d %B %Y}; the requester is "
            "being told why."
        ),
    ),
    RequestAction.PAUSE: Action(
        PauseForm,
        lambda a, r, d: request_pause(actor=a, request=r, reason=d["reason"]),
        lambda r: "Clock paused.",
    ),
    RequestAction.RESUME: Action(
        ResumeForm,
        lambda a, r, d: request_resume(actor=a, request=r),
        lambda r: f"Clock resumed; the request is due on {r.due_on:%-d %B %Y}.",
    ),
    RequestAction.CANCEL: Action(
        CancelForm,
        lambda a, r, d: request_cancel(actor=a, request=r, reason=d["reason"]),
        lambda r: "Request cancelled.",
    ),
    RequestAction.CLOSE: Action(
        CloseForm,
        lambda a, r, d: request_close(
            actor=a, request=r, outcome=d["outcome"], note=d["note"]
        ),
        lambda r: f"Request closed as {r.get_status_display().lower()}.",
    ),
    RequestAction.NOTE: Action(
        NoteForm,
        lambda a, r, d: request_add_note(actor=a, request=r, text=d["text"]),
        lambda note: "Note added.",
    ),
    RequestAction.ASSIGN: Action(
        AssignForm,
        lambda a, r, d: request_assign(actor=a, request=r, assignee=d["assignee"]),
        lambda r: (
            f"Assigned to {r.assignee.get_username()}."
            if r.assignee
            else "Nobody is assigned now."
        ),
    ),
    RequestAction.SEND_AGAIN: Action(
        SendAgainForm,
        lambda a, r, d: request_replan(actor=a, request=r),
        lambda tasks: (
            f"Sent to {len(tasks)} more store{'s' if len(tasks) != 1 else ''}: "
            + ", ".join(t.connector.name for t in tasks)
            + "."
            if tasks
            else "Nothing to send: every enabled store that can do this has a "
            "task already."
        ),
    ),
}


def _detail(
    request: HttpRequest,
    actor: Actor,
    dsr: Request,
    bound: dict[str, forms.Form] | None = None,
) -> HttpResponse:
    pauses = list(dsr.pauses.all())
    paused = request_clock_paused(request=dsr)
    events = list(audit_events_for_object(obj=dsr).order_by("sequence"))
    labels = actor_labels(
        [e.actor for e in events] + [dsr.verified_by, dsr.approved_by, dsr.created_by]
    )
    timeline = [(event, labels.get(event.actor, event.actor)) for event in events]
    bound = bound or {}
    action_forms = {
        name: bound.get(name) or spec.form(prefix=name)
        for name, spec in ACTIONS.items()
    }
    action_forms[RequestAction.ASSIGN] = bound.get(RequestAction.ASSIGN) or AssignForm(
        prefix=RequestAction.ASSIGN, initial={"assignee": dsr.assignee_id}
    )
    tasks = tasks_context(actor, dsr)
    available = request_available_actions(actor=actor, request=dsr)
    can = {name: name in available for name in ACTIONS}
    work = request_work(request=dsr, tasks=[row.task for row in tasks["task_rows"]])
    extend_refusal = request_action_refusals(actor=actor, request=dsr).get(
        RequestAction.EXTEND
    )
    return page(
        request,
        actor,
        "dashboard/request_detail.html",
        {
            "section": "queue",
            "req": dsr,
            "deadline": deadline_state(dsr),
            "pauses": pauses,
            "notes": list(dsr.notes.all()),
            "timeline": timeline,
            "labels": labels,
            "paused": paused,
            "can": can,
            "any_action": any(v for k, v in can.items() if k != "note"),
            "work": work,
            "work_action_label": action_label(work.action),
            "forms": action_forms,
            "open_form": next(iter(bound), None),
            # Who is checking identity needs to see what was claimed; others
            # (auditors, for one) see the pseudonym only.
            "show_identity": actor.can(Perm.REQUEST_VERIFY),
            "refresh_seconds": REFRESH_SECONDS if dsr.is_open else None,
            "verified_by_label": labels.get(dsr.verified_by, dsr.verified_by),
            "approved_by_label": labels.get(dsr.approved_by, dsr.approved_by),
            # Explained in the page's own words (the date as the page shows it).
            "extend_too_late": extend_refusal is not None
            and extend_refusal.code == "too_late",
            "supervisory_authority": supervisory_authority(dsr.regime),
            "letter_available": access_package_letter_available(request=dsr),
            "awaiting_review": request_awaiting_review(request=dsr),
            "held_package": (
                access_package_for_request(request=dsr)
                if can.get(RequestAction.RELEASE_PACKAGE)
                else None
            ),
            **tasks,
            **recipients_context(actor, dsr),
            **agent_context(actor, dsr),
        },
    )


def _get(actor: Actor, public_id: Any) -> Request:
    try:
        return request_get(actor=actor, public_id=str(public_id))
    except Request.DoesNotExist as missing:
        raise Http404("no such request") from missing


@staff_view
def request_detail(request: HttpRequest, actor: Actor, public_id: Any) -> HttpResponse:
    return _detail(request, actor, _get(actor, public_id))


@require_POST
@staff_view
def request_action(
    request: HttpRequest, actor: Actor, public_id: Any, action: str
) -> HttpResponse:
    """Run one action on a request through its one service, then go back."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404("no such action")
    dsr = _get(actor, public_id)
    # The service checks again; refusing here keeps a read-only user from
    # learning anything from form validation.
    actor.require(REQUEST_ACTION_RULES[RequestAction(action)].perm)
    form = spec.form(request.POST, prefix=action)
    if form.is_valid():
        try:
            result = spec.run(actor, dsr, form.cleaned_data)
        except IllegalTransition as error:
            messages.error(request, error.message)
            return redirect("dashboard:request_detail", public_id=dsr.public_id)
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            messages.success(request, spec.done(result))
            return redirect("dashboard:request_detail", public_id=dsr.public_id)
    return _detail(request, actor, dsr, bound={action: form})
