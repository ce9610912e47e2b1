"""Read-only admin views: changes go through the dashboard's services, so
each is versioned and audited."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from records.models import Activity, ProcessingRecord, Recipient, RecordExport

if TYPE_CHECKING:
    # django-stubs' ModelAdmin is generic; Django's takes no subscript at run time.
    _AdminBase = admin.ModelAdmin[Model]
else:
    _AdminBase = admin.ModelAdmin


class _ReadOnly(_AdminBase):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProcessingRecord)
class ProcessingRecordAdmin(_ReadOnly):
    list_display = ("controller_name", "version", "updated_at")


@admin.register(Activity)
class ActivityAdmin(_ReadOnly):
    list_display = ("name", "purpose", "updated_at")


@admin.register(Recipient)
class RecipientAdmin(_ReadOnly):
    list_display = ("name", "role", "country", "activity")


@admin.register(RecordExport)
class RecordExportAdmin(_ReadOnly):
    list_display = ("public_id", "format", "version", "generated_at", "generated_by")
