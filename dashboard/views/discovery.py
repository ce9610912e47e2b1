"""Discover a SQL store: the DSN, the scan's progress, the proposed map to
edit, test and save as a connector; and a connector's re-scan on demand.

The DSN is a secret: its input is a password field, never rendered back,
and no page shows it afterwards.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from accounts.actors import Actor
from accounts.permissions import Perm
from connectors.choices import DiscoveryStatus
from connectors.discovery.proposal import data_categories
from connectors.discovery.selectors import discovery_get
from connectors.discovery.services import (
    connector_rescan,
    discovery_config,
    discovery_probe,
    discovery_save,
    discovery_start,
)
from connectors.models import Discovery
from connectors.services import connector_test_connection
from dashboard.forms.discovery import DiscoveryProposalForm, DiscoveryStartForm
from dashboard.views.common import page, staff_view
from dashboard.views.connectors import REASON_LABELS, _disclosure_items, _get
from privacydesk.errors import DomainError, ValidationFailed

REFRESH_SECONDS = 2


def _discovery(actor: Actor, public_id: Any) -> Discovery:
    try:
        return discovery_get(actor=actor, public_id=str(public_id))
    except Discovery.DoesNotExist as missing:
        raise Http404("no such discovery") from missing


@require_http_methods(["GET", "POST"])
@staff_view
def discovery_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The DSN of the store to scan; the scan runs in the background."""
    actor.require(Perm.CONNECTORS_MANAGE)
    form = DiscoveryStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            discovery = discovery_start(actor=actor, dsn=form.cleaned_data["dsn"])
        except ValidationFailed as error:
            form.add_error("dsn", error.message)
        else:
            return redirect("dashboard:discovery_detail", public_id=discovery.public_id)
    return page(
        request,
        actor,
        "dashboard/discovery_new.html",
        {"section": "connectors", "form": form},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_view
def discovery_detail(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    """The scan's progress, then its proposal as a form (test, save)."""
    discovery = _discovery(actor, public_id)
    context: dict[str, Any] = {"section": "connectors", "discovery": discovery}
    if discovery.connector is not None:  # saved: the connector is the result
        return redirect(
            "dashboard:connector_detail", public_id=discovery.connector.public_id
        )
    if discovery.status != DiscoveryStatus.DONE:
        running = discovery.status in (DiscoveryStatus.QUEUED, DiscoveryStatus.RUNNING)
        total = discovery.tables_total
        context.update(
            refresh_seconds=REFRESH_SECONDS if running else None,
            running=running,
            percent=round(100 * discovery.tables_done / total) if total else 0,
        )
        return page(request, actor, "dashboard/discovery_progress.html", context)
    proposal = discovery.proposal
    form = DiscoveryProposalForm(
        request.POST or None,
        proposal=proposal,
        initial={"data_categories": ", ".join(data_categories(proposal))},
    )
    probe = None
    config_text = ""
    action = request.POST.get("action")
    if request.method == "POST" and form.is_valid():
        edited = form.edited_proposal()
        try:
            if action == "test":
                probe = discovery_probe(
                    actor=actor, discovery=discovery, proposal=edited
                )
            else:
                connector = discovery_save(
                    actor=actor,
                    discovery=discovery,
                    proposal=edited,
                    **_save_kwargs(form),
                )
        except DomainError as error:
            form.add_service_error(error)
        else:
            if action != "test":
                return _saved(request, actor, connector)
        proposal = edited
    try:
        config_text = json.dumps(
            discovery_config(discovery=discovery, proposal=proposal), indent=2
        )
    except DomainError:
        config_text = ""
    context.update(
        form=form,
        tables=form.tables(),
        mapped=sum(1 for t in proposal["tables"] if t["include"]),
        config_text=config_text,
        probe=probe,
        probe_reason=REASON_LABELS.get(probe.reason, "") if probe else "",
        disclosure_items=_disclosure_items(form),  # type: ignore[arg-type]
    )
    return page(
        request,
        actor,
        "dashboard/discovery_proposal.html",
        context,
        status=400 if form.errors else 200,
    )


def _save_kwargs(form: DiscoveryProposalForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "data_categories": data["data_categories"],
        "disclosure": data["disclosure"],
        "enabled": data["enabled"],
    }


def _saved(request: HttpRequest, actor: Actor, connector: Any) -> HttpResponse:
    """After saving: test the connection at once and say how it went."""
    probe = connector_test_connection(actor=actor, connector=connector)
    if probe.ok:
        messages.success(
            request,
            f"Connector {connector.name} added from discovery. Connection works: "
            f"{probe.detail}",
        )
    else:
        label = REASON_LABELS.get(probe.reason, "")
        messages.error(
            request,
            f"Connector {connector.name} added, but the connection failed"
            + (f" ({label})" if label else "")
            + f": {probe.detail}",
        )
    return redirect("dashboard:connector_detail", public_id=connector.public_id)


@require_POST
@staff_view
def connector_rescan_view(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    """Re-scan an sql connector now (the daily re-scan, on demand)."""
    connector = _get(actor, public_id, manage=True)
    try:
        scan = connector_rescan(actor=actor, connector=connector)
    except ValidationFailed as error:
        messages.error(request, f"{error.field}: {error.message}")
    else:
        if scan.status == DiscoveryStatus.FAILED:
            messages.error(request, f"Re-scan of {connector.name} failed: {scan.error}")
        elif scan.flagged:
            messages.warning(
                request,
                f"Re-scan of {connector.name}: {len(scan.flagged)} personal-looking "
                "column(s) not in the map: see Warnings below",
            )
        else:
            messages.success(
                request,
                f"Re-scan of {connector.name}: the map covers every "
                "personal-looking column",
            )
    return redirect("dashboard:connector_detail", public_id=connector.public_id)
