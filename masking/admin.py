from django.contrib import admin

from masking.models import VaultEntry


@admin.register(VaultEntry)
class VaultEntryAdmin(admin.ModelAdmin):
    """Read-only, and never the value: staff see which tokens exist."""

    list_display = ("token", "subject", "conversation_id", "created_at", "last_used_at")
    fields = ("subject", "conversation_id", "entity", "number", "created_at")
    readonly_fields = fields
    search_fields = ("conversation_id",)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
