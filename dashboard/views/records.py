"""Records of processing (GDPR Art. 30) and the data map: read by officers,
admins and auditors; the officer's part changed by officers and admins only
(the services refuse anyone else, and the pages hide what they may not do)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.actors import Actor
from accounts.permissions import Perm
from dashboard.forms.records import ActivityForm, ProcessingRecordForm, RecipientForm
from dashboard.views.common import page, staff_view
from privacydesk.errors import ValidationFailed
from records.exports import ExportedFile, record_export_csv, record_export_pdf
from records.models import Activity, Recipient
from records.selectors.officer import (
    activity_get,
    activity_list,
    export_list,
    purposes_undescribed,
    recipient_get,
    recipient_list,
    record_changes,
)
from records.selectors.record import (
    data_map_read,
    processing_record_current,
    record_digest,
    record_read,
)
from records.services import (
    activity_create,
    activity_delete,
    activity_update,
    processing_record_update,
    recipient_create,
    recipient_delete,
    recipient_update,
)

RECENT = 10
SECTION = "records"


def _context(actor: Actor, **extra: Any) -> dict[str, Any]:
    return {
        "section": SECTION,
        "can_manage": actor.can(Perm.GOVERNANCE_MANAGE),
        **extra,
    }


@require_GET
@staff_view
def records_overview(request: HttpRequest, actor: Actor) -> HttpResponse:
    record = record_read(actor=actor)
    gaps_by_subject: dict[str, list[Any]] = {}
    for gap in record.gaps:
        gaps_by_subject.setdefault(gap.subject, []).append(gap)
    return page(
        request,
        actor,
        "dashboard/records.html",
        _context(
            actor,
            record=record,
            record_sha256=record_digest(record),
            controller_gaps=[g for g in record.gaps if g.scope == "controller"],
            store_gaps=record.data_map.gaps,
            activities=list(activity_list(actor=actor)),
            recipients=list(recipient_list(actor=actor)),
            changes=list(record_changes(actor=actor)[:RECENT]),
            exports=list(export_list(actor=actor)[:RECENT]),
        ),
    )


@require_GET
@staff_view
def records_data_map(request: HttpRequest, actor: Actor) -> HttpResponse:
    data_map = data_map_read(actor=actor)
    return page(
        request,
        actor,
        "dashboard/records_data_map.html",
        _context(actor, data_map=data_map, matrix=data_map.matrix),
    )


def _file(exported: ExportedFile, content_type: str) -> HttpResponse:
    response = HttpResponse(exported.content, content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{exported.export.filename}"'
    )
    response["X-Record-Version"] = str(exported.export.version)
    return response


@require_POST
@staff_view
def records_export_pdf(request: HttpRequest, actor: Actor) -> HttpResponse:
    """A new PDF pack of the record as of now (POST: it is recorded)."""
    return _file(record_export_pdf(actor=actor), "application/pdf")


@require_POST
@staff_view
def records_export_csv(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _file(record_export_csv(actor=actor), "text/csv; charset=utf-8")


def _form_page(
    request: HttpRequest, actor: Actor, form: Any, *, title: str, intro: str = ""
) -> HttpResponse:
    return page(
        request,
        actor,
        "dashboard/records_form.html",
        _context(actor, form=form, title=title, intro=intro),
    )


@require_http_methods(["GET", "POST"])
@staff_view
def records_controller_edit(request: HttpRequest, actor: Actor) -> HttpResponse:
    actor.require(Perm.GOVERNANCE_MANAGE)
    form = ProcessingRecordForm(
        request.POST if request.method == "POST" else None,
        record=processing_record_current(),
    )
    if request.method == "POST" and form.is_valid():
        try:
            record = processing_record_update(actor=actor, **form.service_kwargs())
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Record saved (version {record.version}).")
            return redirect("dashboard:records")
    return _form_page(
        request,
        actor,
        form,
        title="Controller, DPO and security measures",
        intro="Art. 30(1)(a), (c) and (g). Every change raises the record's "
        "version and is audited.",
    )


def _activity(actor: Actor, public_id: Any) -> Activity:
    try:
        return activity_get(actor=actor, public_id=str(public_id), manage=True)
    except Activity.DoesNotExist as missing:
        raise Http404("no such activity") from missing


def _recipient(actor: Actor, public_id: Any) -> Recipient:
    try:
        return recipient_get(actor=actor, public_id=str(public_id), manage=True)
    except Recipient.DoesNotExist as missing:
        raise Http404("no such recipient") from missing


@require_http_methods(["GET", "POST"])
@staff_view
def records_activity_edit(
    request: HttpRequest, actor: Actor, public_id: Any = None
) -> HttpResponse:
    activity = _activity(actor, public_id) if public_id else None
    purposes = purposes_undescribed(
        actor=actor, keep=activity.purpose if activity else None
    )
    form = ActivityForm(
        request.POST if request.method == "POST" else None,
        purposes=purposes,
        activity=activity,
    )
    if request.method == "POST" and form.is_valid():
        try:
            if activity is None:
                activity = activity_create(actor=actor, **form.service_kwargs())
            else:
                activity = activity_update(
                    actor=actor, activity=activity, **form.service_kwargs()
                )
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Activity “{activity}” saved.")
            return redirect("dashboard:records")
    return _form_page(
        request,
        actor,
        form,
        title=f"Edit {activity}" if activity else "Describe a processing activity",
        intro="More about a consent purpose (its categories, retention, "
        "recipients), or an activity no connector shows, such as a mailing "
        "tool or the phone system.",
    )


@require_http_methods(["GET", "POST"])
@staff_view
def records_recipient_edit(
    request: HttpRequest, actor: Actor, public_id: Any = None
) -> HttpResponse:
    recipient = _recipient(actor, public_id) if public_id else None
    form = RecipientForm(
        request.POST if request.method == "POST" else None,
        activities=activity_list(actor=actor),
        recipient=recipient,
    )
    if request.method == "POST" and form.is_valid():
        try:
            if recipient is None:
                recipient = recipient_create(actor=actor, **form.service_kwargs())
            else:
                recipient = recipient_update(
                    actor=actor, recipient=recipient, **form.service_kwargs()
                )
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Recipient “{recipient.name}” saved.")
            return redirect("dashboard:records")
    return _form_page(
        request,
        actor,
        form,
        title=f"Edit {recipient.name}" if recipient else "Add a recipient",
        intro="A recipient or processor no connector shows (Art. 30(1)(d)), and "
        "for one outside the EEA the safeguard of the transfer (30(1)(e)).",
    )


@require_POST
@staff_view
def records_activity_delete(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    activity = _activity(actor, public_id)
    try:
        activity_delete(actor=actor, activity=activity)
    except ValidationFailed as error:
        messages.error(request, f"“{activity}” was not removed: {error.message}.")
    else:
        messages.success(request, f"Activity “{activity}” removed.")
    return redirect("dashboard:records")


@require_POST
@staff_view
def records_recipient_delete(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    recipient = _recipient(actor, public_id)
    recipient_delete(actor=actor, recipient=recipient)
    messages.success(request, f"Recipient “{recipient.name}” removed.")
    return redirect("dashboard:records")
