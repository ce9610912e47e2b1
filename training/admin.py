"""Read-only admin: exclusions and datasets change only through services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest

from training.models import Dataset, TrainingExclusion

if TYPE_CHECKING:
    # django-stubs' ModelAdmin is generic; Django's takes no subscript at run time.
    _ExclusionAdminBase = admin.ModelAdmin[TrainingExclusion]
    _DatasetAdminBase = admin.ModelAdmin[Dataset]
else:
    _ExclusionAdminBase = _DatasetAdminBase = admin.ModelAdmin


@admin.register(TrainingExclusion)
class TrainingExclusionAdmin(_ExclusionAdminBase):
    list_display = ("public_id", "reason", "created_at", "lifted_at")
    list_filter = ("reason",)
    readonly_fields = tuple(f.name for f in TrainingExclusion._meta.fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Dataset)
class DatasetAdmin(_DatasetAdminBase):
    list_display = ("name", "version", "created_at", "conversation_count")
    readonly_fields = tuple(f.name for f in Dataset._meta.fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
