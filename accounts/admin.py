from django.contrib import admin

from accounts.models import ApiClient


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "token_prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = [
        "public_id",
        "token_prefix",
        "token_hash",
        "created_at",
        "last_used_at",
    ]
