"""Read-only admin for connectors: changes go through the services (audited).

The secrets column is never shown; a health check can be run from the list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.actors import actor_for_user
from connectors.models import Connector, Discovery
from connectors.services import connector_check_health
from privacydesk.errors import DomainError

if TYPE_CHECKING:
    # django-stubs' ModelAdmin is generic in its model; Django's class takes no
    # subscript at run time (django_stubs_ext, which adds one, is a dev tool).
    _ConnectorAdminBase = admin.ModelAdmin[Connector]
    _DiscoveryAdminBase = admin.ModelAdmin[Discovery]
else:
    _ConnectorAdminBase = admin.ModelAdmin
    _DiscoveryAdminBase = admin.ModelAdmin


@admin.register(Connector)
class ConnectorAdmin(_ConnectorAdminBase):
    list_display = ["name", "kind", "enabled", "health", "health_checked_at"]
    list_filter = ["kind", "enabled", "health"]
    search_fields = ["name"]
    exclude = ["secrets"]
    readonly_fields = [
        "public_id",
        "name",
        "kind",
        "config",
        "data_categories",
        "disclosure",
        "enabled",
        "health",
        "health_detail",
        "health_warnings",
        "health_checked_at",
        "created_at",
        "updated_at",
    ]
    actions = ["check_health"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Connector | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: Connector | None = None
    ) -> bool:
        return False

    @admin.action(description="Check health")
    def check_health(self, request: HttpRequest, queryset: QuerySet[Connector]) -> None:
        if not request.user.is_authenticated:  # the admin site lets in only staff
            raise PermissionDenied
        actor = actor_for_user(request.user)
        for connector in queryset:
            try:
                checked = connector_check_health(actor=actor, connector=connector)
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
                return
            level = messages.SUCCESS if checked.health == "ok" else messages.WARNING
            self.message_user(
                request, f"{checked.name}: {checked.health_detail}", level
            )
            for warning in checked.health_warnings:
                fix = f" Fix: {warning['fix']}" if warning.get("fix") else ""
                self.message_user(
                    request,
                    f"{checked.name}: {warning['message']}.{fix}",
                    messages.WARNING,
                )


@admin.register(Discovery)
class DiscoveryAdmin(_DiscoveryAdminBase):
    """Scans and re-scans, read only; the DSN (a secret) is never shown."""

    list_display = ["public_id", "kind", "status", "connector", "created_at"]
    list_filter = ["kind", "status"]
    exclude = ["dsn"]
    readonly_fields = [
        "public_id",
        "kind",
        "status",
        "connector",
        "started_by",
        "tables_total",
        "tables_done",
        "proposal",
        "flagged",
        "error",
        "started_at",
        "finished_at",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Discovery | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: Discovery | None = None
    ) -> bool:
        return False
