"""Access reviews: start one, confirm or revoke each item, sign, export."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.actors import Actor
from accounts.choices import ReviewDecision, ReviewStatus
from accounts.models import AccessReview, AccessReviewItem
from accounts.permissions import Perm
from accounts.reviews import (
    access_review_get,
    access_review_item_get,
    access_review_items,
    access_review_list,
)
from audit.access_reviews import (
    access_review_create,
    access_review_item_decide,
    access_review_sign,
)
from dashboard.forms.security import ReviewDecisionForm, ReviewSignForm
from dashboard.views.common import page, staff_view
from evidence.services import access_review_pack_generate
from privacydesk.errors import IllegalTransition, ValidationFailed

DECISIONS = {"confirm": ReviewDecision.CONFIRMED, "revoke": ReviewDecision.REVOKED}


def _review(actor: Actor, public_id: Any) -> AccessReview:
    try:
        return access_review_get(actor=actor, public_id=str(public_id))
    except AccessReview.DoesNotExist as missing:
        raise Http404("no such access review") from missing


@require_http_methods(["GET", "POST"])
@staff_view
def access_reviews(request: HttpRequest, actor: Actor) -> HttpResponse:
    if request.method == "POST":
        review = access_review_create(actor=actor)
        messages.success(request, "Access review started: decide each item below.")
        return redirect("dashboard:access_review_detail", public_id=review.public_id)
    return page(
        request,
        actor,
        "dashboard/access_reviews.html",
        {
            "section": "security",
            "reviews": access_review_list(actor=actor),
            "can_manage": actor.can(Perm.ACCESS_REVIEW_MANAGE),
        },
    )


def _detail(
    request: HttpRequest,
    actor: Actor,
    review: AccessReview,
    sign_form: ReviewSignForm | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    items = list(access_review_items(review=review))
    return page(
        request,
        actor,
        "dashboard/access_review_detail.html",
        {
            "section": "security",
            "review": review,
            "staff_items": [item for item in items if item.kind == "staff"],
            "client_items": [item for item in items if item.kind == "api_client"],
            "pending": sum(1 for item in items if item.decision == "pending"),
            "is_open": review.status == ReviewStatus.OPEN,
            "can_manage": actor.can(Perm.ACCESS_REVIEW_MANAGE),
            "sign_form": sign_form or ReviewSignForm(),
        },
        status=status,
    )


@require_GET
@staff_view
def access_review_detail(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    return _detail(request, actor, _review(actor, public_id))


@require_POST
@staff_view
def access_review_decide(
    request: HttpRequest, actor: Actor, public_id: Any, item_id: Any, decision: str
) -> HttpResponse:
    review = _review(actor, public_id)
    if decision not in DECISIONS:
        raise Http404("no such decision")
    try:
        item = access_review_item_get(
            actor=actor, review=review, public_id=str(item_id)
        )
    except AccessReviewItem.DoesNotExist as missing:
        raise Http404("no such item") from missing
    form = ReviewDecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        access_review_item_decide(
            actor=actor, item=item, decision=DECISIONS[decision], note=note
        )
    except (IllegalTransition, ValidationFailed) as error:
        messages.error(request, error.message)
    else:
        verb = "Confirmed" if decision == "confirm" else "Revoked"
        messages.success(request, f"{verb}: {item.name}.")
    return redirect("dashboard:access_review_detail", public_id=review.public_id)


@require_POST
@staff_view
def access_review_sign_view(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    review = _review(actor, public_id)
    form = ReviewSignForm(request.POST)
    if form.is_valid():
        try:
            access_review_sign(
                actor=actor, review=review, statement=form.cleaned_data["statement"]
            )
        except IllegalTransition as error:
            messages.error(request, error.message)
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Review signed. Download its evidence pack.")
            return redirect(
                "dashboard:access_review_detail", public_id=review.public_id
            )
    return _detail(request, actor, review, form, status=400)


@require_GET
@staff_view
def access_review_evidence_pdf(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    result = access_review_pack_generate(actor=actor, review=_review(actor, public_id))
    response = HttpResponse(result.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    response["X-Evidence-Pack-SHA256"] = result.sha256
    return response
