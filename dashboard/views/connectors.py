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
from connectors.base import ConnectorKind
from connectors.choices import Health
from connectors.discovery.selectors import connector_last_rescan
from connectors.errors import (
    REASON_AUTH,
    REASON_NETWORK,
    REASON_NOT_FOUND,
    REASON_PERMISSION,
    REASON_RATE_LIMIT,
    REASON_REFUSED,
    REASON_SERVER,
)
from connectors.models import Connector
from connectors.probes import REASON_CONFIG, REASON_UNEXPECTED, Probe, connector_probe
from connectors.registry import (
    KINDS,
    SAAS,
    kind_available,
    kind_class,
    kinds_available,
)
from connectors.selectors import (
    connector_get,
    connector_list,
    connector_secret_fields_set,
)
from connectors.services import (
    connector_create,
    connector_set_enabled,
    connector_test_connection,
    connector_update,
)
from dashboard.forms.connector_disclosure import ITEMS as DISCLOSURE_ITEMS
from dashboard.forms.connector_fields import ConnectorFieldsForm
from dashboard.forms.connectors import ConnectorEnableForm, ConnectorForm
from dashboard.views.common import page, staff_view
from dashboard.views.tasks import action_label
from dsr.selectors import connector_task_list
from privacydesk.errors import ValidationFailed

RECENT_TASKS = 20

# What failed, as the test connection's label says it.
REASON_LABELS = {
    REASON_AUTH: "auth: credentials refused (401)",
    REASON_PERMISSION: "permission: a role or scope is missing (403)",
    REASON_NETWORK: "network: unreachable, TLS or timeout",
    REASON_RATE_LIMIT: "rate limit: too many calls (429)",
    REASON_NOT_FOUND: "not found: check the subdomain or base URL",
    REASON_SERVER: "the service failed (5xx)",
    REASON_REFUSED: "the call was refused",
    REASON_CONFIG: "configuration",
    REASON_UNEXPECTED: "unexpected error",
}
# The picker's groups; a kind not named here and not a SaaS definition shows
# under "Other kinds", so a new kind never breaks the page.
GROUPS = (
    ("stores", "Databases and files"),
    ("remote", "Webhooks, agents and people"),
    ("saas", "Support SaaS"),
    ("vectors", "Vector stores (AI memory)"),
    ("other", "Other kinds"),
)
KIND_GROUP = {
    "sql": "stores",
    "files": "stores",
    "http": "remote",
    "pull": "remote",
    "manual": "remote",
    "opendsr": "remote",
}

DISCLOSURE_LABELS = {
    "purposes": "Purposes",
    "recipients": "Recipients",
    "retention": "Retention",
    "source": "Source",
    "automated_decision_making": "Automated decision-making",
    "transfers": "Transfers outside the EEA / UK",
    "title": "Title for the subject",
    "category_names": "Category names",
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
        if key == "category_names" and isinstance(value, dict):
            value = [f"{category}: {name}" for category, name in value.items()]
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
            "last_rescan": connector_last_rescan(actor=actor, connector=connector)
            if connector.kind == "sql"
            else None,
        },
    )


def _form_page(
    request: HttpRequest,
    actor: Actor,
    form: ConnectorForm | ConnectorFieldsForm,
    *,
    kind: type[ConnectorKind] | None,
    connector: Connector | None = None,
    probe: Probe | None = None,
) -> HttpResponse:
    as_json = isinstance(form, ConnectorForm)
    return page(
        request,
        actor,
        "dashboard/connector_json_form.html"
        if as_json
        else "dashboard/connector_form.html",
        {
            "section": "connectors",
            "form": form,
            "connector": connector,
            "kind": kind,
            "kind_name": kind.kind if kind else "",
            "kind_description": _description(kind) if kind else "",
            "secrets_set": connector_secret_fields_set(connector=connector)
            if connector
            else [],
            "probe": probe,
            "probe_reason": REASON_LABELS.get(probe.reason, "") if probe else "",
            "disclosure_items": _disclosure_items(form)
            if isinstance(form, ConnectorFieldsForm)
            else [],
        },
        status=400 if form.errors else 200,
    )


def _disclosure_items(form: ConnectorFieldsForm) -> list[dict[str, Any]]:
    items = []
    for item in DISCLOSURE_ITEMS:
        inputs = (
            ["disclosure_adm_logic", "disclosure_adm_significance"]
            + ["disclosure_adm_consequences"]
            if item == "automated_decision_making"
            else [f"disclosure_{item}"]
        )
        items.append(
            {
                "label": DISCLOSURE_LABELS[item],
                "inputs": [form[name] for name in inputs],
                **form.disclosure_item(item),
            }
        )
    return items


def _description(cls: type[ConnectorKind]) -> str:
    """A kind's one-line description: its docstring's first paragraph."""
    doc = (cls.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(doc.split())


def _group(kind: str) -> str:
    if KINDS.get(kind, "").startswith(SAAS):
        return "saas"
    if ".kinds.vectors." in KINDS.get(kind, ""):  # on connectors/kinds/vectors/base
        return "vectors"
    return KIND_GROUP.get(kind, "other")


def _kind_groups() -> list[dict[str, Any]]:
    """Every kind that imports, grouped for the picker."""
    kinds = kinds_available()
    groups: list[dict[str, Any]] = []
    for group, title in GROUPS:
        members: list[dict[str, Any]] = [
            {
                "kind": kind,
                "label": cls.label,
                "description": _description(cls),
                "secrets": cls.secret_fields,
            }
            for kind, cls in kinds.items()
            if _group(kind) == group
        ]
        if members:
            groups.append({"title": title, "kinds": sorted(members, key=_by_label)})
    return groups


def _by_label(member: dict[str, Any]) -> str:
    return str(member["label"]).lower()


def _kind_of_request(request: HttpRequest) -> str:
    return str(request.POST.get("kind") or request.GET.get("kind") or "")


def _as_json(request: HttpRequest) -> bool:
    return (request.POST.get("mode") or request.GET.get("mode")) == "json"


def _probe_form(
    actor: Actor, form: ConnectorFieldsForm, connector: Connector | None
) -> Probe | None:
    """Test connection with what the form holds, saving nothing; None when
    the config or secret inputs themselves have errors (shown instead)."""
    if not form.clean_for_test():
        return None
    probe = connector_probe(
        actor=actor,
        kind=form.kind.kind,
        config=form.config(),
        secrets=form.secrets(),
        connector=connector,
        name=form.cleaned_data.get("name") or "",
    )
    if probe.field and probe.reason == REASON_CONFIG:
        form.add_service_error(ValidationFailed(probe.detail, field=probe.field))
    return probe


@require_http_methods(["GET", "POST"])
@staff_view
def connector_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Pick a kind (a plain GET, ?kind=...), then fill in its form."""
    actor.require(Perm.CONNECTORS_MANAGE)  # the 403 page before the form
    kind_name = _kind_of_request(request)
    kind = kind_available(kind_name) if kind_name else None
    if kind is None and not (_as_json(request) and request.method == "POST"):
        return page(
            request,
            actor,
            "dashboard/connector_kinds.html",
            {
                "section": "connectors",
                "groups": _kind_groups(),
                "unknown": kind_name,
            },
            status=400 if kind_name else 200,
        )
    form: ConnectorForm | ConnectorFieldsForm
    if _as_json(request):
        form = ConnectorForm(
            request.POST or None, initial={"kind": kind_name} if kind else None
        )
    else:
        assert kind is not None
        form = ConnectorFieldsForm(request.POST or None, kind=kind)
    probe = None
    if request.method == "POST" and request.POST.get("action") == "test":
        if isinstance(form, ConnectorFieldsForm):
            probe = _probe_form(actor, form, None)
    elif request.method == "POST" and form.is_valid():
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
    return _form_page(request, actor, form, kind=kind, probe=probe)


@require_http_methods(["GET", "POST"])
@staff_view
def connector_edit(request: HttpRequest, actor: Actor, public_id: Any) -> HttpResponse:
    """The same generated form as adding (or ?mode=json), filled in."""
    connector = _get(actor, public_id, manage=True)
    kind = kind_available(connector.kind)
    form: ConnectorForm | ConnectorFieldsForm
    if _as_json(request) or kind is None:
        form = ConnectorForm(request.POST or None, connector=connector)
    else:
        form = ConnectorFieldsForm(request.POST or None, kind=kind, connector=connector)
    probe = None
    if request.method == "POST" and request.POST.get("action") == "test":
        if isinstance(form, ConnectorFieldsForm):
            probe = _probe_form(actor, form, connector)
    elif request.method == "POST" and form.is_valid():
        try:
            connector = connector_update(
                actor=actor, connector=connector, **form.service_kwargs()
            )
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Connector {connector.name} saved.")
            return redirect("dashboard:connector_detail", public_id=connector.public_id)
    return _form_page(request, actor, form, kind=kind, connector=connector, probe=probe)


@require_POST
@staff_view
def connector_check(request: HttpRequest, actor: Actor, public_id: Any) -> HttpResponse:
    """Test connection: ask the store now and show its answer, with a label
    naming what failed (auth, permission, network, rate limit, not found)."""
    connector = _get(actor, public_id, manage=True)
    probe = connector_test_connection(actor=actor, connector=connector)
    if probe.ok and probe.warnings:
        messages.warning(
            request,
            f"Connection to {connector.name} works, with "
            f"{len(probe.warnings)} warning(s): see Health below",
        )
    elif probe.ok:
        messages.success(
            request, f"Connection to {connector.name} works: {probe.detail}"
        )
    else:
        label = REASON_LABELS.get(probe.reason, "")
        messages.error(
            request,
            f"Connection to {connector.name} failed"
            + (f" ({label})" if label else "")
            + f": {probe.detail}",
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
