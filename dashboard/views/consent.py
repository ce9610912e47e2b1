"""Consent: purposes and their wording, consent rates, a subject's history,
and the withdrawals sent to the stores that honour them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.actors import Actor
from accounts.permissions import Perm
from connectors.choices import ConnectorKindChoice
from connectors.selectors import connector_list
from consent.choices import PropagationStatus
from consent.models import ConsentPropagation, Purpose
from consent.selectors import (
    DailyRate,
    consent_history,
    consent_rates,
    consent_states,
    consent_subject_get,
    policy_version_current,
    policy_versions,
    propagation_list,
    purpose_connector_links,
    purpose_get,
    purpose_list,
)
from consent.services.policies import (
    policy_version_publish,
    purpose_connector_link,
    purpose_connector_unlink,
)
from consent.services.propagations import propagation_retry
from dashboard.forms.consent import (
    PolicyPublishForm,
    PurposeLinkForm,
    SubjectSearchForm,
)
from dashboard.views.common import actor_labels, page, staff_view
from dsr.clock import local_today
from privacydesk.errors import IllegalTransition, ValidationFailed
from subjects.claims import identity_claims
from subjects.models import DataSubject
from subjects.selectors import subject_find

RATE_DAYS = 30
# The chart's drawing area, in SVG user units.
CHART_W, CHART_H, CHART_PAD = 300, 90, 4


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    day: date
    grants: int
    withdrawals: int

    @property
    def percent(self) -> int:
        return round(100 * self.grants / (self.grants + self.withdrawals))


def rate_charts(rates: list[DailyRate], *, today: date) -> dict[str, dict[str, Any]]:
    """Per purpose: points of the daily grant share, a polyline, and totals.

    Days without a choice have no point; the line joins the days that have.
    """
    first = today - timedelta(days=RATE_DAYS - 1)
    step = (CHART_W - 2 * CHART_PAD) / (RATE_DAYS - 1)
    charts: dict[str, dict[str, Any]] = {}
    for row in rates:
        if row.rate is None or row.day < first:
            continue
        chart = charts.setdefault(
            row.purpose, {"points": [], "grants": 0, "withdrawals": 0}
        )
        x = CHART_PAD + (row.day - first).days * step
        y = CHART_PAD + (1 - row.rate) * (CHART_H - 2 * CHART_PAD)
        chart["points"].append(
            ChartPoint(round(x, 1), round(y, 1), row.day, row.grants, row.withdrawals)
        )
        chart["grants"] += row.grants
        chart["withdrawals"] += row.withdrawals
    for chart in charts.values():
        chart["polyline"] = " ".join(f"{p.x},{p.y}" for p in chart["points"])
        total = chart["grants"] + chart["withdrawals"]
        chart["percent"] = round(100 * chart["grants"] / total) if total else None
    return charts


def _store_names(actor: Actor) -> list[str]:
    return list(connector_list(actor=actor).values_list("name", flat=True))


def _purposes_page(
    request: HttpRequest,
    actor: Actor,
    *,
    failed: tuple[str, PolicyPublishForm | PurposeLinkForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    actor.require(Perm.CONSENT_VIEW)
    can_manage = actor.can(Perm.CONSENT_MANAGE)
    today = local_today()
    charts = rate_charts(consent_rates(actor=actor, days=RATE_DAYS), today=today)
    stores = _store_names(actor) if can_manage else []
    failed_slug, failed_form = failed if failed else ("", None)
    rows = []
    for purpose in purpose_list():
        form = link_form = None
        if can_manage:
            mine = failed_slug == purpose.slug
            form = (
                failed_form
                if mine and isinstance(failed_form, PolicyPublishForm)
                else PolicyPublishForm(prefix=purpose.slug)
            )
            link_form = (
                failed_form
                if mine and isinstance(failed_form, PurposeLinkForm)
                else PurposeLinkForm(prefix=f"link-{purpose.slug}", connectors=stores)
            )
        rows.append(
            {
                "purpose": purpose,
                "current": policy_version_current(purpose=purpose),
                "versions": list(policy_versions(purpose=purpose)[:5]),
                "chart": charts.get(purpose.slug),
                "form": form,
                "open": failed_slug == purpose.slug
                and isinstance(failed_form, PolicyPublishForm),
                "links": list(purpose_connector_links(purpose=purpose)),
                "link_form": link_form,
                "link_open": failed_slug == purpose.slug
                and isinstance(failed_form, PurposeLinkForm),
            }
        )
    return page(
        request,
        actor,
        "dashboard/consent_purposes.html",
        {
            "section": "consent",
            "rows": rows,
            "can_manage": can_manage,
            "days": RATE_DAYS,
            "first_day": today - timedelta(days=RATE_DAYS - 1),
            "today": today,
            "search_form": SubjectSearchForm(),
        },
        status=status,
    )


@require_http_methods(["GET"])
@staff_view
def consent_purposes(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _purposes_page(request, actor)


@require_POST
@staff_view
def consent_policy_publish(
    request: HttpRequest, actor: Actor, slug: str
) -> HttpResponse:
    actor.require(Perm.CONSENT_MANAGE)
    purpose = _purpose_or_404(slug)
    form = PolicyPublishForm(request.POST, prefix=slug)
    if form.is_valid():
        try:
            published = policy_version_publish(
                actor=actor,
                purpose=purpose,
                version=form.cleaned_data["version"],
                text=form.cleaned_data["text"],
                material=form.cleaned_data["material"],
            )
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                f"Published {purpose.name} version {published.version}"
                + (
                    " (material: existing grants need renewal)."
                    if published.material
                    else "."
                ),
            )
            return redirect("dashboard:consent_purposes")
    return _purposes_page(request, actor, failed=(slug, form), status=400)


def _purpose_or_404(slug: str) -> Purpose:
    purpose = purpose_get(slug=slug)
    if purpose is None:
        raise Http404("no such purpose")
    return purpose


@require_POST
@staff_view
def consent_link_save(request: HttpRequest, actor: Actor, slug: str) -> HttpResponse:
    """Link a store to a purpose (or change the link): a withdrawal of the
    purpose is then pushed there."""
    actor.require(Perm.CONSENT_MANAGE)
    purpose = _purpose_or_404(slug)
    form = PurposeLinkForm(
        request.POST, prefix=f"link-{slug}", connectors=_store_names(actor)
    )
    if form.is_valid():
        connector = connector_list(actor=actor).get(name=form.cleaned_data["connector"])
        try:
            purpose_connector_link(
                actor=actor,
                purpose=purpose,
                connector=connector,
                action=form.cleaned_data["action"],
                enabled=form.cleaned_data["enabled"],
            )
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                f"Linked {purpose.name} to {connector.name}: a withdrawal is now "
                "sent there.",
            )
            url = reverse("dashboard:consent_purposes")
            return redirect(f"{url}#purpose-{slug}")
    return _purposes_page(request, actor, failed=(slug, form), status=400)


@require_POST
@staff_view
def consent_link_remove(
    request: HttpRequest, actor: Actor, slug: str, connector: str
) -> HttpResponse:
    actor.require(Perm.CONSENT_MANAGE)
    purpose = _purpose_or_404(slug)
    link = (
        purpose_connector_links(purpose=purpose)
        .filter(connector__name=connector)
        .first()
    )
    if link is None:
        raise Http404("no such link")
    purpose_connector_unlink(actor=actor, link=link)
    messages.success(
        request,
        f"Unlinked {connector} from {purpose.name}: withdrawals are no longer "
        "sent there.",
    )
    url = reverse("dashboard:consent_purposes")
    return redirect(f"{url}#purpose-{slug}")


@require_http_methods(["GET", "POST"])
@staff_view
def consent_subject_search(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Find a subject by e-mail (POSTed: no address in a URL or a log)."""
    actor.require(Perm.CONSENT_VIEW)
    form = SubjectSearchForm(request.POST if request.method == "POST" else None)
    not_found = False
    if request.method == "POST" and form.is_valid():
        claims = identity_claims({"email": form.cleaned_data["email"]})
        subject = subject_find(claims=claims)
        if subject is not None:
            return redirect("dashboard:consent_subject", public_id=subject.public_id)
        not_found = True
    return page(
        request,
        actor,
        "dashboard/consent_subject_search.html",
        {"section": "consent", "form": form, "not_found": not_found},
        status=404 if not_found else 200,
    )


@require_http_methods(["GET"])
@staff_view
def consent_subject(request: HttpRequest, actor: Actor, public_id: Any) -> HttpResponse:
    try:
        subject = consent_subject_get(actor=actor, public_id=public_id)
    except DataSubject.DoesNotExist as missing:
        raise Http404("no such subject") from missing
    return page(
        request,
        actor,
        "dashboard/consent_subject.html",
        {
            "section": "consent",
            "subject": subject,
            "states": consent_states(actor=actor, subject=subject),
            "events": consent_history(actor=actor, subject=subject)[:500],
            "search_form": SubjectSearchForm(),
        },
    )


# --- withdrawals sent to stores -------------------------------------------------

PROPAGATIONS_PER_PAGE = 50
PROPAGATION_FILTERS = [
    ("", "All"),
    (PropagationStatus.WAITING, "Waiting"),
    (PropagationStatus.FAILED, "Failed"),
    (PropagationStatus.PENDING, "Queued"),
    (PropagationStatus.SUCCEEDED, "Done"),
    (PropagationStatus.UNSUPPORTED, "Not supported"),
]


@dataclass(frozen=True)
class PropagationRow:
    """One withdrawal sent to one store, in the words staff need."""

    propagation: ConsentPropagation
    label: str  # the status in a few words
    badge: str  # a badge--<name> style
    holder: str = ""  # the agent holding a pull job's lease, by name
    can_retry: bool = False


def propagation_row(
    propagation: ConsentPropagation, *, names: dict[str, str], can_manage: bool
) -> PropagationRow:
    """Say who the job waits for: a webhook's callback, an agent to claim it,
    or the agent that holds it now."""
    status, kind = propagation.status, propagation.connector.kind
    if status == PropagationStatus.WAITING and kind == ConnectorKindChoice.PULL:
        expires = propagation.lease_expires_at
        if propagation.lease_owner and expires and expires > timezone.now():
            ref = f"client:{propagation.lease_owner}"
            return PropagationRow(
                propagation, "Claimed by an agent", "running", names.get(ref, ref)
            )
        return PropagationRow(propagation, "Waiting for an agent", "waiting")
    if status == PropagationStatus.WAITING:
        return PropagationRow(propagation, "Waiting for the callback", "waiting")
    if status == PropagationStatus.PENDING and propagation.attempts:
        return PropagationRow(propagation, "Retrying", "pending")
    if status == PropagationStatus.FAILED:
        return PropagationRow(propagation, "Failed", "failed", can_retry=can_manage)
    if status == PropagationStatus.UNSUPPORTED:
        return PropagationRow(propagation, "Not supported", "skipped")
    return PropagationRow(propagation, propagation.get_status_display(), status)


@require_http_methods(["GET"])
@staff_view
def consent_propagations(request: HttpRequest, actor: Actor) -> HttpResponse:
    status = request.GET.get("status", "")
    try:
        propagations = propagation_list(actor=actor, status=status or None)
    except ValidationFailed:
        status, propagations = "", propagation_list(actor=actor)
    propagations = propagations.select_related("event__subject")
    page_obj = Paginator(propagations, PROPAGATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    names = actor_labels(f"client:{p.lease_owner}" for p in page_obj if p.lease_owner)
    can_manage = actor.can(Perm.CONSENT_MANAGE)
    return page(
        request,
        actor,
        "dashboard/consent_propagations.html",
        {
            "section": "consent",
            "page_obj": page_obj,
            "rows": [
                propagation_row(p, names=names, can_manage=can_manage) for p in page_obj
            ],
            "filters": PROPAGATION_FILTERS,
            "status": status,
        },
    )


@require_POST
@staff_view
def consent_propagation_retry(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    """Send a failed withdrawal again, after the store was fixed."""
    actor.require(Perm.CONSENT_MANAGE)
    propagation = propagation_list(actor=actor).filter(public_id=public_id).first()
    if propagation is None:
        raise Http404("no such propagation")
    try:
        propagation_retry(actor=actor, propagation=propagation)
    except IllegalTransition as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"Queued again: the {propagation.purpose.slug} withdrawal for "
            f"{propagation.connector.name}.",
        )
    url = reverse("dashboard:consent_propagations")
    return redirect(f"{url}#propagation-{propagation.public_id}")
