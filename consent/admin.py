"""Read-only admin: consent changes go through services, so they are audited,
cached answers are retired and events stay append-only."""

from __future__ import annotations

from django.contrib import admin

from consent.models import (
    ConsentEvent,
    ConsentPropagation,
    ConsentState,
    ErasureAssessment,
    PolicyVersion,
    Purpose,
    PurposeConnector,
)
from privacydesk.adminkit import ReadOnlyAdmin


@admin.register(Purpose)
class PurposeAdmin(ReadOnlyAdmin):
    list_display = [
        "slug",
        "name",
        "legal_basis",
        "is_sale_or_sharing",
        "default_granted",
        "propagate",
    ]


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ["purpose", "version", "effective_at", "material", "sha256"]
    list_filter = ["purpose", "material"]


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "purpose", "action", "channel", "occurred_at"]
    list_filter = ["purpose", "action", "channel"]
    search_fields = ["public_id"]


@admin.register(ConsentState)
class ConsentStateAdmin(ReadOnlyAdmin):
    list_display = ["subject", "purpose", "state", "since"]
    list_filter = ["purpose", "state"]


@admin.register(ErasureAssessment)
class ErasureAssessmentAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "purpose", "status", "created_at"]
    list_filter = ["status", "purpose"]


@admin.register(PurposeConnector)
class PurposeConnectorAdmin(ReadOnlyAdmin):
    list_display = ["purpose", "connector", "enabled"]


@admin.register(ConsentPropagation)
class ConsentPropagationAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "purpose", "connector", "status", "attempts"]
    list_filter = ["status", "connector"]
