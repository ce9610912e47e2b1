"""Retention: policies (with their last and next run), legal holds, runs.

"Run now" and "Dry run" hand the run to a worker; the run page shows what
it examined, changed and skipped because of a hold, per table.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from accounts.actors import Actor
from accounts.permissions import Perm
from dashboard.forms.retention import HoldForm, PolicyForm, ReleaseForm, RunForm
from dashboard.views.common import actor_labels, page, staff_view
from dsr.models import LegalHold, Request
from privacydesk.errors import IllegalTransition, ValidationFailed
from retention.choices import RunStatus
from retention.models import PurgeRun, RetentionPolicy
from retention.selectors import (
    hold_connector_choices,
    hold_get,
    hold_list,
    hold_subject_by_reference,
    policies_needing_attention,
    policy_connector_choices,
    policy_get,
    policy_last_runs,
    policy_list,
    policy_next_run_at,
    run_get,
    run_list,
)
from retention.services.confirmations import policy_confirmation
from retention.services.holds import (
    hold_subject_for_identity,
    legal_hold_place,
    legal_hold_release,
)
from retention.services.policies import (
    retention_builtin_ensure,
    retention_policy_create,
    retention_policy_update,
)
from retention.services.runs import purge_run_enqueue, purge_run_resume_enqueue

RUNS_PER_PAGE = 30
# Run statuses on the badge styles the dashboard already has.
BADGES: dict[str, str] = {
    RunStatus.RUNNING: "running",
    RunStatus.SUCCEEDED: "succeeded",
    RunStatus.FAILED: "failed",
    RunStatus.INTERRUPTED: "paused",
}


def _badge(run: PurgeRun | None) -> str:
    return BADGES.get(run.status, "pending") if run is not None else ""


def _policy(actor: Actor, public_id: Any, *, manage: bool = False) -> RetentionPolicy:
    try:
        return policy_get(actor=actor, public_id=str(public_id), manage=manage)
    except RetentionPolicy.DoesNotExist as missing:
        raise Http404("no such policy") from missing


def _context(section: str, **extra: Any) -> dict[str, Any]:
    return {"section": "retention", "retention_tab": section, **extra}


@staff_view
def retention_policies(request: HttpRequest, actor: Actor) -> HttpResponse:
    listed = policy_list(actor=actor)
    retention_builtin_ensure()
    policies = list(listed)
    last_runs = policy_last_runs(policies=policies)
    rows = [
        {
            "policy": policy,
            "last_run": last_runs.get(policy.pk),
            "next_run_at": policy_next_run_at(policy=policy),
            "badge": _badge(last_runs.get(policy.pk)),
        }
        for policy in policies
    ]
    return page(
        request,
        actor,
        "dashboard/retention_policies.html",
        _context(
            "policies",
            rows=rows,
            attention=list(policies_needing_attention()),
            can_manage=actor.can(Perm.RETENTION_MANAGE),
        ),
    )


def _policy_form_page(
    request: HttpRequest,
    actor: Actor,
    form: PolicyForm,
    policy: RetentionPolicy | None = None,
) -> HttpResponse:
    return page(
        request,
        actor,
        "dashboard/retention_policy_form.html",
        _context("policies", form=form, policy=policy),
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_view
def retention_policy_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    connectors = policy_connector_choices(actor=actor)  # 403 before the form
    form = PolicyForm(request.POST or None, connectors=connectors)
    if request.method == "POST" and form.is_valid():
        try:
            policy = retention_policy_create(actor=actor, **form.service_kwargs())
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                f"Policy “{policy.name}” added. Its schedule only dry-runs it "
                "until you confirm a real run (Run now) against a dry run's "
                "counts.",
            )
            return redirect("dashboard:retention_policies")
    return _policy_form_page(request, actor, form)


@require_http_methods(["GET", "POST"])
@staff_view
def retention_policy_edit(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    policy = _policy(actor, public_id, manage=True)
    form = PolicyForm(
        request.POST or None,
        connectors=policy_connector_choices(actor=actor),
        policy=policy,
    )
    if request.method == "POST" and form.is_valid():
        try:
            policy = retention_policy_update(
                actor=actor, policy=policy, **form.service_kwargs()
            )
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Policy “{policy.name}” saved.")
            return redirect("dashboard:retention_policies")
    return _policy_form_page(request, actor, form, policy)


@staff_view
def retention_policy_confirm(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    """ "Run now": what a real run would change, from the latest recent dry
    run of this policy version, and the confirmation it needs."""
    policy = _policy(actor, public_id, manage=True)
    confirmation = policy_confirmation(policy=policy)
    by_label = ""
    if confirmation is not None:
        by_label = actor_labels([confirmation.by]).get(confirmation.by, "")
    return page(
        request,
        actor,
        "dashboard/retention_policy_confirm.html",
        _context(
            "policies",
            policy=policy,
            confirmation=confirmation,
            sentence=confirmation.sentence(by_label) if confirmation else "",
            window_hours=settings.RETENTION_CONFIRM_WITHIN_HOURS,
            last_dry_run=run_list(actor=actor, policy=policy, dry_run=True).first(),
        ),
    )


@require_POST
@staff_view
def retention_policy_run(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    """ "Dry run", and the confirmed "Run now": queue the run on a worker."""
    policy = _policy(actor, public_id, manage=True)
    form = RunForm(request.POST)
    form.is_valid()
    dry_run = bool(form.cleaned_data.get("dry_run"))
    try:
        purge_run_enqueue(
            actor=actor,
            policy=policy,
            dry_run=dry_run,
            confirm_dry_run=form.cleaned_data.get("confirm_dry_run"),
            confirm=bool(form.cleaned_data.get("confirm")),
        )
    except IllegalTransition as error:
        messages.error(request, error.message)
    except ValidationFailed as error:
        messages.error(request, f"Not started: {error.message}.")
        return redirect(
            "dashboard:retention_policy_confirm", public_id=policy.public_id
        )
    else:
        what = "A dry run" if dry_run else "A run"
        messages.success(
            request,
            f"{what} of “{policy.name}” is queued; it appears under Runs when a "
            "worker starts it.",
        )
    return redirect("dashboard:retention_runs")


@require_http_methods(["GET", "POST"])
@staff_view
def retention_holds(request: HttpRequest, actor: Actor) -> HttpResponse:
    holds = list(hold_list(actor=actor))
    can_manage = actor.can(Perm.RETENTION_MANAGE)
    form = None
    if can_manage:
        form = HoldForm(
            request.POST or None, connectors=hold_connector_choices(actor=actor)
        )
    if request.method == "POST":
        actor.require(Perm.RETENTION_MANAGE)
        assert form is not None
        if form.is_valid():
            try:
                hold = _place_hold(actor, form.cleaned_data)
            except ValidationFailed as error:
                form.add_service_error(error)
            else:
                messages.success(request, f"Legal hold placed ({hold.legal_basis}).")
                return redirect("dashboard:retention_holds")
    active = [hold for hold in holds if hold.is_active()]
    ended = [hold for hold in holds if not hold.is_active()]
    return page(
        request,
        actor,
        "dashboard/retention_holds.html",
        _context(
            "holds",
            active=active,
            ended=ended,
            form=form,
            can_manage=can_manage,
            release_form=ReleaseForm(),
        ),
        status=400 if form is not None and form.errors else 200,
    )


def _place_hold(actor: Actor, data: dict[str, Any]) -> LegalHold:
    subject = None
    if data["scope"] == "subject":
        if data.get("request_reference"):
            try:
                subject = hold_subject_by_reference(
                    actor=actor, reference=data["request_reference"]
                )
            except Request.DoesNotExist as exc:
                raise ValidationFailed(
                    "no request with this reference", field="request_reference"
                ) from exc
        elif data.get("subject_email"):
            subject = hold_subject_for_identity(
                actor=actor, identity={"email": data["subject_email"]}
            )
        else:
            raise ValidationFailed(
                "give a request reference or an e-mail", field="request_reference"
            )
    return legal_hold_place(
        actor=actor,
        scope=data["scope"],
        reason=data["reason"],
        legal_basis=data["legal_basis"],
        subject=subject,
        connector=data.get("connector"),
        table=data.get("table") or "",
        ends_at=data.get("ends_at"),
    )


@require_POST
@staff_view
def retention_hold_release(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    try:
        hold = hold_get(actor=actor, public_id=str(public_id), manage=True)
    except LegalHold.DoesNotExist as missing:
        raise Http404("no such hold") from missing
    form = ReleaseForm(request.POST)
    form.is_valid()
    try:
        legal_hold_release(
            actor=actor, hold=hold, note=form.cleaned_data.get("note", "")
        )
    except IllegalTransition as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Legal hold released; the next runs may purge.")
    return redirect("dashboard:retention_holds")


@staff_view
def retention_runs(request: HttpRequest, actor: Actor) -> HttpResponse:
    policy = None
    if request.GET.get("policy"):
        try:
            policy = _policy(actor, request.GET["policy"])
        except (Http404, ValidationError):
            policy = None
    runs = run_list(actor=actor, policy=policy)
    page_obj = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    labels = actor_labels(run.triggered_by for run in page_obj)
    return page(
        request,
        actor,
        "dashboard/retention_runs.html",
        _context(
            "runs",
            page_obj=page_obj,
            rows=[
                {"run": run, "badge": _badge(run), "by": labels.get(run.triggered_by)}
                for run in page_obj
            ],
            policy=policy,
        ),
    )


@staff_view
def retention_run_detail(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    try:
        run: PurgeRun = run_get(actor=actor, public_id=str(public_id))
    except PurgeRun.DoesNotExist as missing:
        raise Http404("no such run") from missing
    return page(
        request,
        actor,
        "dashboard/retention_run_detail.html",
        _context(
            "runs",
            run=run,
            badge=_badge(run),
            totals=run.totals(),
            peak_rss_mb=round(run.peak_rss_kb / 1024, 1) if run.peak_rss_kb else None,
            tables=sorted(run.tables.items()),
            triggered_by=actor_labels([run.triggered_by]).get(run.triggered_by, ""),
            can_resume=actor.can(Perm.RETENTION_MANAGE)
            and not run.dry_run
            and run.status in (RunStatus.FAILED, RunStatus.INTERRUPTED),
            refresh_seconds=5 if run.status == RunStatus.RUNNING else None,
        ),
    )


@require_POST
@staff_view
def retention_run_resume(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    try:
        run = run_get(actor=actor, public_id=str(public_id))
    except PurgeRun.DoesNotExist as missing:
        raise Http404("no such run") from missing
    try:
        purge_run_resume_enqueue(actor=actor, run=run)
    except IllegalTransition as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The run is queued to resume from its checkpoint.")
    return redirect("dashboard:retention_run_detail", public_id=run.public_id)
