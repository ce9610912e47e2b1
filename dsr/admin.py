from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from dsr.models import Request


@admin.register(Request)
class RequestAdmin(SimpleHistoryAdmin):
    """Read-mostly: changes go through the dashboard so they are audited."""

    list_display = ["reference", "kind", "regime", "status", "received_at", "due_on"]
    list_filter = ["status", "kind", "regime"]
    search_fields = ["reference"]
    exclude = ["identity", "details", "corrections"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
