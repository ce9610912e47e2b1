from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from dsr.models import LegalHold
from privacydesk.adminkit import ReadOnlyAdmin
from retention.models import PurgeRun, RetentionPolicy


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(SimpleHistoryAdmin, ReadOnlyAdmin):
    list_display = ["name", "connector", "table", "max_age_days", "action", "enabled"]
    list_filter = ["action", "enabled", "builtin"]
    search_fields = ["name", "table"]


@admin.register(LegalHold)
class LegalHoldAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "connector", "table", "legal_basis", "starts_at"]
    list_filter = ["released_at"]
    exclude = ["subject"]


@admin.register(PurgeRun)
class PurgeRunAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "policy", "dry_run", "status", "started_at"]
    list_filter = ["status", "dry_run"]
