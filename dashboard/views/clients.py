"""API clients: list, create (the token is shown once), revoke."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from accounts.actors import Actor
from accounts.models import ApiClient
from accounts.selectors import api_client_get, api_client_list
from audit.accounts import api_client_create, api_client_revoke
from dashboard.forms.clients import ApiClientCreateForm, RevokeForm
from dashboard.views.common import page, staff_view
from privacydesk.errors import IllegalTransition, ValidationFailed


def _list_page(
    request: HttpRequest, actor: Actor, form: ApiClientCreateForm, *, status: int = 200
) -> HttpResponse:
    return page(
        request,
        actor,
        "dashboard/api_clients.html",
        {
            "section": "clients",
            "clients": api_client_list(actor=actor),
            "form": form,
            "revoke_form": RevokeForm(),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_view
def api_clients(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = ApiClientCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            client, token = api_client_create(
                actor=actor,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
            )
        except ValidationFailed as error:
            form.add_service_error(error)
        else:
            # Rendered, not redirected: the token is never stored anywhere we
            # could show it from again (staff_view marks this page no-store).
            return page(
                request,
                actor,
                "dashboard/api_client_created.html",
                {"section": "clients", "client": client, "token": token},
            )
    return _list_page(request, actor, form)


@require_POST
@staff_view
def api_client_revoke_view(
    request: HttpRequest, actor: Actor, public_id: Any
) -> HttpResponse:
    try:
        client = api_client_get(actor=actor, public_id=str(public_id))
    except ApiClient.DoesNotExist as missing:
        raise Http404("no such client") from missing
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Tick “I confirm” to revoke {client.name}.")
        return redirect("dashboard:api_clients")
    try:
        api_client_revoke(actor=actor, client=client)
    except IllegalTransition as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Revoked {client.name}: its token no longer works.")
    return redirect("dashboard:api_clients")
