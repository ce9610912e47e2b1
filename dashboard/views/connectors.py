"""Connectors: the stores requests fan out to. List, detail, create, edit, test.

Secrets never reach a page: the detail says which secret names are set, the
form's secrets box starts empty and is never filled back in.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from accounts.actors import Actor
from accounts.permissions import Perm
from connectors.choices import Health
from connectors.models import Connector
from connectors.registry import kind_class, kinds_available
from connectors.selectors import (
    connector_get,
    connector_list,
    connector_secret_fields_set,
)
from connectors.services import (
    connector_check_health,
    connector_create,
    connector_set_enabled,
    connector_update,
)
from dashboard.forms.connectors import ConnectorEnableForm, ConnectorForm
from dashboard.views.common import page, staff_view
from dashboard.views.tasks import action_label
from dsr.selectors import connector_task_list
from privacydesk.errors import ValidationFailed

RECENT_TASKS = 20

DISCLOSURE_LABELS = {
    "purposes": "Purposes",
    "recipients": "Recipients",
    "retention": "Retention",
    "source": "Source",
    "automated_decision_making": "Automated decision-making",
    "transfers": "Transfers outside the EEA / UK",
}

# Config is meant to hold no secrets; should one slip in anyway (a password
# in a DSN, a key under an obvious name), the page still does not show it.
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*):[^@\s]*@", re.I)
_SECRET_KEY = re.compile(
    r"(password|passwd|secret|token|api_?key|private_?key|signing_?key)", re.I
)
MASK = "••••••"


def _masked(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(item, key) for item in value]
    if isinstance(value, str):
        if key and _SECRET_KEY.search(key) and value:
            return MASK
        return _URL_PASSWORD.sub(rf"\g<head>:{MASK}@", value)
    return value


def _config_text(connector: Connector) -> str:
    return json.dumps(_masked(connector.config), indent=2, ensure_ascii=False)


def _disclosure_rows(disclosure: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(label, lines) per disclosure item, in the order of GDPR 15(1)."""

    def text(item: Any) -> str:
        if isinstance(item, dict) and "not_applicable" in item:
            return f"Not applicable: {item['not_applicable']}"
        if isinstance(item, str):
            return item
        return json.dumps(item, ensure_ascii=False)

    rows = []
    keys = list(DISCLOSURE_LABELS) + sorted(set(disclosure) - set(DISCLOSURE_LABELS))
    for key in keys:
        if key not in disclosure:
            continue
        value = disclosure[key]
        items = value if isinstance(value, list) else [value]
        lines = [text(item) for item in items if item not in ("", None)]
        label = DISCLOSURE_LABELS.get(key, key.replace("_", " ").capitalize())
        rows.append((label, lines))
    return rows


def _secret_names_of_kind(kind: str) -> tuple[str, ...]:
    try:
        return kind_class(kind).secret_fields
    except Exception:  # a kind not installed: the page still shows the rest
        return ()


def _get(actor: Actor, public_id: Any, *, manage: bool = False) -> Connector:
    try:
        return connector_get(actor=actor, public_id=str(public_id), manage=manage)
    except Connector.DoesNotExist as missing:
        raise Http404("no such connector") from missing


@staff_view
def connector_list_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    return page(
        request,
        actor,
        "dashboard/connector_list.html",
        {
            "section": "connectors",
            "connectors": connector_list(actor=actor),
            "can_manage": actor.can(Perm.CONNECTORS_MANAGE),
        },
    )


@staff_view
def connector_detail(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    connector = _get(actor, public_id)
    return page(
        request,
        actor,
        "dashboard/connector_detail.html",
        {
            "section": "connectors",
            "connector": connector,
            "config_text": _config_text(connector),
            "secrets_set": connector_secret_fields_set(connector=connector),
            "secret_names": _secret_names_of_kind(connector.kind),
            "disclosure_rows": _disclosure_rows(connector.disclosure or {}),
            "recent_tasks": [
                (task, action_label(task.action))
                for task in connector_task_list(
                    actor=actor, connector=connector, limit=RECENT_TASKS
                )
            ]
            if actor.can(Perm.REQUEST_VIEW)
            else None,
            "can_manage": actor.can(Perm.CONNECTORS_MANAGE),
            "health_ok": connector.health == Health.OK,
        },
    )


def _form_page(
    request: HttpRequest,
    actor: Actor,
    form: ConnectorForm,
    connector: Connector | None = None,
) -> HttpResponse:
    return page(
        request,
        actor,
        "dashboard/connector_form.html",
        {
            "section": "connectors",
            "form": form,
            "connector": connector,
            "secrets_set": connector_secret_fields_set(connector=connector)
            if connector
            else [],
            "kind_fields": _kind_fields(),
        },
        status=400 if form.errors else 200,
    )


def _kind_fields() -> list[dict[str, Any]]:
    """Each kind's config fields as its config_schema() describes them (the
    help under the form; a form generated from the schema comes later)."""
    described = []
    for kind, cls in sorted(kinds_available().items()):
        schema = cls.config_schema()
        required = set(schema.get("required", ()))
        fields = [
            {
                "name": name,
                "required": name in required,
                "help": field.get("description", ""),
            }
            for name, field in schema.get("properties", {}).items()
        ]
        described.append(
            {
                "kind": kind,
                "label": cls.label,
                "fields": fields,
                "secrets": cls.secret_fields,
            }
        )
    return described


@require_http_methods(["GET", "POST"])
@staff_view
def connector_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    actor.require(Perm.CONNECTORS_MANAGE)  # the 403 page before the form
    form = ConnectorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            connector = connector_create(actor=actor, **form.service_kwargs())
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                f"Connector {connector.name} added. Test the connection to check "
                "it can reach the store.",
            )
            return redirect("dashboard:connector_detail", public_id=connector.public_id)
    return _form_page(request, actor, form)


@require_http_methods(["GET", "POST"])
@staff_view
def connector_edit(request: HttpRequest, actor: Actor, public_id: Any) -> HttpResponse:
    connector = _get(actor, public_id, manage=True)
    form = ConnectorForm(request.POST or None, connector=connector)
    if request.method == "POST" and form.is_valid():
        try:
            connector = connector_update(
                actor=actor, connector=connector, **form.service_kwargs()
            )
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Connector {connector.name} saved.")
            return redirect("dashboard:connector_detail", public_id=connector.public_id)
    return _form_page(request, actor, form, connector)


@require_POST
@staff_view
def connector_check(request: HttpRequest, actor: Actor, public_id: Any) -> HttpResponse:
    """Test connection: ask the store now and show its answer."""
    connector = connector_check_health(
        actor=actor, connector=_get(actor, public_id, manage=True)
    )
    if connector.health == Health.OK and connector.health_warnings:
        messages.warning(
            request,
            f"Connection to {connector.name} works, with "
            f"{len(connector.health_warnings)} warning(s): see Health below",
        )
    elif connector.health == Health.OK:
        messages.success(
            request, f"Connection to {connector.name} works: {connector.health_detail}"
        )
    else:
        messages.error(
            request, f"Connection to {connector.name} failed: {connector.health_detail}"
        )
    return redirect("dashboard:connector_detail", public_id=connector.public_id)


@require_POST
@staff_view
def connector_enable(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    """Switch a connector on or off for new requests."""
    connector = _get(actor, public_id, manage=True)
    form = ConnectorEnableForm(request.POST)
    form.is_valid()  # a missing box means "off"
    try:
        connector = connector_set_enabled(
            actor=actor, connector=connector, enabled=form.cleaned_data["enabled"]
        )
    except ValidationFailed as error:  # e.g. a disclosure a letter cannot use
        messages.error(
            request,
            f"{connector.name} stays disabled: {error.field}: {error.message}",
        )
        return redirect("dashboard:connector_detail", public_id=connector.public_id)
    if connector.enabled:
        messages.success(request, f"{connector.name} is enabled for new requests.")
    else:
        messages.success(
            request,
            f"{connector.name} is disabled: new requests no longer reach it; "
            "tasks already given to it still run.",
        )
    return redirect("dashboard:connector_detail", public_id=connector.public_id)
