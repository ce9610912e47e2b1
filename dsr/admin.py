from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from dsr.models import AccessPackage, Request


@admin.register(Request)
class RequestAdmin(SimpleHistoryAdmin):
    """Read-mostly: changes go through the dashboard so they are audited."""

    list_display = ["reference", "kind", "regime", "status", "received_at", "due_on"]
    list_filter = ["status", "kind", "regime"]
    search_fields = ["reference"]
    exclude = ["identity", "details", "corrections"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(AccessPackage)
class AccessPackageAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
