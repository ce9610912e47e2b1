from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest

from masking.models import VaultEntry

if TYPE_CHECKING:
    # django-stubs' ModelAdmin is generic in its model; Django's takes no
    # subscript at run time (as in dsr.admin).
    _VaultEntryAdminBase = admin.ModelAdmin[VaultEntry]
else:
    _VaultEntryAdminBase = admin.ModelAdmin


@admin.register(VaultEntry)
class VaultEntryAdmin(_VaultEntryAdminBase):
    """Read-only, and never the value: staff see which tokens exist."""

    list_display = ("token", "subject", "conversation_id", "created_at", "last_used_at")
    fields = ("subject", "conversation_id", "entity", "number", "created_at")
    readonly_fields = fields
    search_fields = ("conversation_id",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: VaultEntry | None = None
    ) -> bool:
        return False
