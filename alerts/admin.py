from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest

from alerts.models import Alert

if TYPE_CHECKING:
    _AlertAdminBase = admin.ModelAdmin[Alert]
else:
    _AlertAdminBase = admin.ModelAdmin


@admin.register(Alert)
class AlertAdmin(_AlertAdminBase):
    """Read-only: alerts are acknowledged on the dashboard, so it is audited."""

    list_display = ["raised_at", "rule", "severity", "subject_kind", "count"]
    list_filter = ["rule", "severity"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Alert | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: Alert | None = None
    ) -> bool:
        return False
