"""An authorised agent on a request's page (CCPA-REG §7063): who filed it,
the written authority and the consumer's own confirmation; an officer
records the signed permission of a request an agent filed through the API."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.permissions import Perm
from dashboard.forms.agents import AgentPermissionForm
from dashboard.views.common import actor_labels, staff_view
from dsr.choices import RequestStatus
from dsr.models import Request
from dsr.selectors import request_agent, request_get
from dsr.services.verification import agent_permission_record
from privacydesk.errors import IllegalTransition, ValidationFailed


def agent_context(
    actor: Actor, dsr: Request, form: AgentPermissionForm | None = None
) -> dict[str, Any]:
    """What the request page's agent panel needs."""
    authority = request_agent(request=dsr)
    # Until the request is decided (a wrong file may be replaced meanwhile).
    may_record = (
        authority is not None
        and dsr.status == RequestStatus.RECEIVED
        and actor.can(Perm.REQUEST_AGENT_AUTHORITY)
    )
    recorded_by = authority.authority_recorded_by if authority else ""
    return {
        "agent": authority,
        "agent_recorded_by_label": actor_labels([recorded_by]).get(
            recorded_by, recorded_by
        )
        if recorded_by
        else "",
        # The agent's name and address are personal data: shown to those who
        # check identity, as the identity claimed is.
        "show_agent_contact": actor.can(Perm.REQUEST_VERIFY),
        "agent_form": (form or AgentPermissionForm()) if may_record else None,
    }


@require_POST
@staff_view
def agent_permission_upload(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    """Record the agent's signed permission on a request (officers only)."""
    try:
        dsr = request_get(actor=actor, public_id=str(public_id))
    except Request.DoesNotExist as missing:
        raise Http404("no such request") from missing
    actor.require(Perm.REQUEST_AGENT_AUTHORITY)  # before validation says anything
    back = redirect(
        reverse("dashboard:request_detail", args=[dsr.public_id]) + "#agent"
    )
    form = AgentPermissionForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            dsr = agent_permission_record(
                actor=actor, request=dsr, uploaded_file=form.cleaned_data["document"]
            )
        except IllegalTransition as error:
            messages.error(request, f"Not recorded: {error.message}")
            return back
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                "The agent's signed permission is recorded"
                + (
                    "; the consumer had confirmed, so the request is verified."
                    if dsr.verified_at
                    else "; the request still waits for the consumer to confirm."
                ),
            )
            return back
    errors = " ".join(str(e) for errs in form.errors.values() for e in errs)
    messages.error(request, f"Not recorded: {errors}")
    return back
