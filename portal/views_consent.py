"""The subject's consent page: every purpose, its wording, one button each.

Reached only through a signed link (consent.links) sent to an address we hold
for the subject. Withdrawing takes exactly as many steps as allowing (GDPR
7(3)): one button press. A browser sending Global Privacy Control
(`Sec-GPC: 1`) is opted out of every sale/sharing purpose without being
asked anything (CCPA regulations 7025).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from consent.choices import ConsentChannel
from consent.links import consent_subject_for_token
from consent.selectors import WITHDRAWAL_NOTICE, consent_state_for_subject
from consent.services.events import (
    actor_for_data_subject,
    consent_apply_gpc,
    consent_set,
)
from portal.forms_consent import ConsentChoiceForm
from portal.views import _client, _help_context, _link_expired
from subjects.models import DataSubject

GPC_NOTICE = (
    "We received your browser's Global Privacy Control signal and have opted "
    "you out of sale/sharing."
)
GPC_BLOCKS_GRANT = (
    "Your browser is sending a Global Privacy Control signal, which opts you out "
    "of sale/sharing. To allow this purpose, turn that signal off first."
)


def gpc_signal(request: HttpRequest) -> bool:
    """The browser sends Global Privacy Control (`Sec-GPC: 1`)."""
    return request.headers.get("Sec-GPC", "").strip() == "1"


def consent_evidence(request: HttpRequest, ui_element: str) -> dict[str, Any]:
    # The IP is hashed with a key by the consent service; never stored raw.
    evidence: dict[str, Any] = {
        "user_agent": request.headers.get("User-Agent", "")[:500],
        "ui_element": ui_element,
        "gpc": gpc_signal(request),
    }
    ip = _client(request)
    if ip != "unknown":
        evidence["ip"] = ip
    return evidence


def _apply_gpc(request: HttpRequest, subject: DataSubject) -> bool:
    """Honour the signal; True when it changed something (then say so once)."""
    if not gpc_signal(request):
        return False
    ip = _client(request)
    recorded = consent_apply_gpc(
        actor=actor_for_data_subject(subject=subject),
        subject=subject,
        evidence={
            "user_agent": request.headers.get("User-Agent", "")[:500],
            "ui_element": "consent-page:gpc",
        },
        request_ip=None if ip == "unknown" else ip,
    )
    return any(item.created for item in recorded)


@never_cache
@require_http_methods(["GET", "POST"])
def consents(request: HttpRequest, token: str) -> HttpResponse:
    subject = consent_subject_for_token(token=token)
    if subject is None:
        return _link_expired(request)
    if _apply_gpc(request, subject):
        messages.info(request, GPC_NOTICE)
    if request.method == "POST":
        form = ConsentChoiceForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Please choose one of the buttons below.")
            return redirect("portal:consents", token=token)
        slug = form.cleaned_data["purpose"]
        states = {
            item.purpose.slug: item
            for item in consent_state_for_subject(subject=subject)
        }
        if (
            form.granted
            and gpc_signal(request)
            and states[slug].purpose.is_sale_or_sharing
        ):
            messages.error(request, GPC_BLOCKS_GRANT)
            return redirect("portal:consents", token=token)
        consent_set(
            actor=actor_for_data_subject(subject=subject),
            subject=subject,
            purpose=slug,
            granted=form.granted,
            channel=ConsentChannel.PORTAL,
            evidence=consent_evidence(
                request, f"consent-page:{slug}:{form.cleaned_data['choice']}"
            ),
        )
        name = states[slug].purpose.name
        messages.success(
            request,
            f"Saved: you allowed “{name}”."
            if form.granted
            else f"Saved: you withdrew your consent to “{name}”.",
        )
        return redirect(f"{request.path}#purpose-{slug}")
    context = {
        "token": token,
        "purposes": consent_state_for_subject(subject=subject),
        "withdrawal_notice": WITHDRAWAL_NOTICE,
        "gpc": gpc_signal(request),
        **_help_context(),
    }
    return render(request, "portal/consents.html", context)
