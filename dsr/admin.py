from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from dsr.models import AccessPackage, Request

if TYPE_CHECKING:
    # django-stubs' ModelAdmin is generic in its model; Django's class takes no
    # subscript at run time (django_stubs_ext, which adds one, is a dev tool).
    _AccessPackageAdminBase = admin.ModelAdmin[AccessPackage]
else:
    _AccessPackageAdminBase = admin.ModelAdmin


@admin.register(Request)
class RequestAdmin(SimpleHistoryAdmin):
    """Read-mostly: changes go through the dashboard so they are audited."""

    list_display = ["reference", "kind", "regime", "status", "received_at", "due_on"]
    list_filter = ["status", "kind", "regime"]
    search_fields = ["reference"]
    exclude = ["identity", "details", "corrections"]

    def has_change_permission(
        self, request: HttpRequest, obj: Request | None = None
    ) -> bool:
        return False


@admin.register(AccessPackage)
class AccessPackageAdmin(_AccessPackageAdminBase):
    """Read-only: a package is built by the service and proven by its digest."""

    list_display = (
        "request",
        "kind",
        "size",
        "record_count",
        "download_count",
        "created_at",
        "expires_at",
    )
    list_filter = ("kind",)
    search_fields = ("request__reference",)
    readonly_fields = [f.name for f in AccessPackage._meta.fields]

    def has_add_permission(
        self, request: HttpRequest, obj: AccessPackage | None = None
    ) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: AccessPackage | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: AccessPackage | None = None
    ) -> bool:
        return False
