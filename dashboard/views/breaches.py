"""The breach register pages: the register, the record, its decisions, the
notification, subject notices and the evidence pack. Officers write,
auditors read; each view calls one service or selector."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.actors import Actor
from accounts.permissions import Perm
from breaches.choices import BreachStatus
from breaches.clock import breach_clock
from breaches.models import Breach, BreachNotice
from breaches.selectors import (
    breach_events,
    breach_get,
    breach_list,
    breach_notice_counts,
    breach_notice_get,
    breach_notices,
    breach_rows,
)
from breaches.services.notices import breach_notice_retry, breach_notices_request
from breaches.services.packs import breach_pack_generate
from breaches.services.register import (
    ARTICLE_33_3,
    breach_close,
    breach_create,
    breach_notify_authority,
    breach_update,
    missing_33_3,
)
from dashboard.forms.breaches import (
    BreachForm,
    CloseForm,
    DecisionForm,
    NoticesForm,
    NotifyAuthorityForm,
)
from dashboard.views.common import actor_labels, page, staff_view
from privacydesk.errors import DomainError, IllegalTransition, ValidationFailed

PER_PAGE = 50
RECORD_FIELDS = list(BreachForm.base_fields)
DECISION_FIELDS = list(DecisionForm.base_fields)


def _breach(actor: Actor, public_id: Any, *, manage: bool = False) -> Breach:
    try:
        return breach_get(actor=actor, public_id=public_id, manage=manage)
    except Breach.DoesNotExist as missing:
        raise Http404("no such breach") from missing


@require_GET
@staff_view
def breach_register(request: HttpRequest, actor: Actor) -> HttpResponse:
    status = request.GET.get("status", "")
    breaches = breach_list(actor=actor, status=status or None)
    page_obj = Paginator(breaches, PER_PAGE).get_page(request.GET.get("page"))
    return page(
        request,
        actor,
        "dashboard/breach_register.html",
        {
            "section": "breaches",
            "rows": breach_rows(list(page_obj.object_list)),
            "page_obj": page_obj,
            "status": status,
            "statuses": [("", "All"), *BreachStatus.choices],
            "can_manage": actor.can(Perm.BREACH_MANAGE),
        },
    )


def _form_page(
    request: HttpRequest,
    actor: Actor,
    form: BreachForm,
    breach: Breach | None,
    *,
    status: int = 200,
) -> HttpResponse:
    return page(
        request,
        actor,
        "dashboard/breach_form.html",
        {"section": "breaches", "form": form, "breach": breach},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_view
def breach_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    actor.require(Perm.BREACH_MANAGE)
    if request.method == "GET":
        form = BreachForm(initial={"aware_at": timezone.now(), "risk": "unassessed"})
        return _form_page(request, actor, form, None)
    form = BreachForm(request.POST)
    if form.is_valid():
        try:
            breach = breach_create(actor=actor, **form.cleaned_data)
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                f"Recorded {breach.reference}. Notify the authority by "
                f"{timezone.localtime(breach.notify_by):%d %b %Y, %H:%M}.",
            )
            return redirect("dashboard:breach_detail", public_id=breach.public_id)
    return _form_page(request, actor, form, None, status=400)


@require_http_methods(["GET", "POST"])
@staff_view
def breach_edit(request: HttpRequest, actor: Actor, public_id: Any) -> HttpResponse:
    breach = _breach(actor, public_id, manage=True)
    if request.method == "GET":
        initial = {field: getattr(breach, field) for field in RECORD_FIELDS}
        return _form_page(request, actor, BreachForm(initial=initial), breach)
    form = BreachForm(request.POST)
    if form.is_valid():
        try:
            breach_update(actor=actor, breach=breach, **form.cleaned_data)
        except ValidationFailed as error:
            form.add_service_error(error)
        except IllegalTransition as error:
            messages.error(request, error.message)
            return redirect("dashboard:breach_detail", public_id=breach.public_id)
        else:
            messages.success(request, f"Saved {breach.reference}.")
            return redirect("dashboard:breach_detail", public_id=breach.public_id)
    return _form_page(request, actor, form, breach, status=400)


def _detail(
    request: HttpRequest,
    actor: Actor,
    breach: Breach,
    *,
    forms: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    events = list(breach_events(actor=actor, breach=breach))
    initial = {field: getattr(breach, field) for field in DECISION_FIELDS}
    all_forms: dict[str, Any] = {
        "decision_form": DecisionForm(initial=initial),
        "notify_form": NotifyAuthorityForm(initial={"notified_at": timezone.now()}),
        "notices_form": NoticesForm(),
        "close_form": CloseForm(),
        **(forms or {}),
    }
    return page(
        request,
        actor,
        "dashboard/breach_detail.html",
        {
            "section": "breaches",
            "breach": breach,
            "clock": breach_clock(breach),
            "missing": [ARTICLE_33_3[field] for field in missing_33_3(breach)],
            "notices": breach_notices(actor=actor, breach=breach),
            "notice_counts": breach_notice_counts(breach=breach),
            "events": events,
            "actors": actor_labels([e.actor for e in events]),
            "can_manage": actor.can(Perm.BREACH_MANAGE) and breach.is_open,
            **all_forms,
        },
        status=status,
    )


@require_GET
@staff_view
def breach_detail(request: HttpRequest, actor: Actor, public_id: Any) -> HttpResponse:
    return _detail(request, actor, _breach(actor, public_id))


def _post(
    request: HttpRequest,
    actor: Actor,
    public_id: Any,
    *,
    form_name: str,
    form_class: type[Any],
    act: Any,
    done: str,
) -> HttpResponse:
    """Validate one detail-page form, call its service, and come back to the
    page: with a message, or with the form and its errors (400)."""
    breach = _breach(actor, public_id, manage=True)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            act(breach, form.cleaned_data)
        except ValidationFailed as error:
            form.add_service_error(error)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("dashboard:breach_detail", public_id=breach.public_id)
        else:
            messages.success(request, done)
            return redirect("dashboard:breach_detail", public_id=breach.public_id)
    return _detail(request, actor, breach, forms={form_name: form}, status=400)


@require_POST
@staff_view
def breach_decide(request: HttpRequest, actor: Actor, public_id: Any) -> HttpResponse:
    return _post(
        request,
        actor,
        public_id,
        form_name="decision_form",
        form_class=DecisionForm,
        act=lambda breach, data: breach_update(actor=actor, breach=breach, **data),
        done="Decisions recorded.",
    )


@require_POST
@staff_view
def breach_notify(request: HttpRequest, actor: Actor, public_id: Any) -> HttpResponse:
    return _post(
        request,
        actor,
        public_id,
        form_name="notify_form",
        form_class=NotifyAuthorityForm,
        act=lambda breach, data: breach_notify_authority(
            actor=actor, breach=breach, **data
        ),
        done="Notification to the supervisory authority recorded.",
    )


@require_POST
@staff_view
def breach_notices_new(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    def act(breach: Breach, data: dict[str, Any]) -> None:
        made, skipped = breach_notices_request(
            actor=actor, breach=breach, addresses=data["addresses"]
        )
        messages.info(
            request,
            f"{len(made)} notice{'s' if len(made) != 1 else ''} queued"
            + (f"; {skipped} already told or repeated, skipped" if skipped else "")
            + ".",
        )

    return _post(
        request,
        actor,
        public_id,
        form_name="notices_form",
        form_class=NoticesForm,
        act=act,
        done="The notices are being sent; each one's outcome appears below.",
    )


@require_POST
@staff_view
def breach_notice_retry_view(
    request: HttpRequest, actor: Actor, public_id: Any, notice_id: Any
) -> HttpResponse:
    breach = _breach(actor, public_id, manage=True)
    try:
        notice = breach_notice_get(actor=actor, breach=breach, public_id=notice_id)
    except BreachNotice.DoesNotExist as missing:
        raise Http404("no such notice") from missing
    try:
        breach_notice_retry(actor=actor, notice=notice)
    except IllegalTransition as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The notice is queued again.")
    return redirect("dashboard:breach_detail", public_id=breach.public_id)


@require_POST
@staff_view
def breach_close_view(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    return _post(
        request,
        actor,
        public_id,
        form_name="close_form",
        form_class=CloseForm,
        act=lambda breach, data: breach_close(
            actor=actor, breach=breach, note=data["note"]
        ),
        done="Breach closed. Its record stays in the register.",
    )


@require_GET
@staff_view
def breach_evidence_pdf(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponseBase:
    result = breach_pack_generate(actor=actor, breach=_breach(actor, public_id))
    response = HttpResponse(result.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{result.pack.filename}"'
    response["X-Evidence-Pack-SHA256"] = result.pack.sha256
    return response
