from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from breaches.models import Breach, BreachNotice, BreachPack

if TYPE_CHECKING:
    # django-stubs' ModelAdmin is generic in its model; Django's class takes no
    # subscript at run time (django_stubs_ext, which adds one, is a dev tool).
    _AdminBase = admin.ModelAdmin[Model]
else:
    _AdminBase = admin.ModelAdmin


class ReadOnlyAdmin(_AdminBase):
    """Changes go through the dashboard, so they are validated and audited."""

    def has_add_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return False


@admin.register(Breach)
class BreachAdmin(SimpleHistoryAdmin, ReadOnlyAdmin):
    list_display = ["reference", "title", "aware_at", "risk", "status"]
    list_filter = ["status", "risk", "authority_decision"]
    search_fields = ["reference", "title"]


@admin.register(BreachNotice)
class BreachNoticeAdmin(ReadOnlyAdmin):
    # Never the address: the notice is shown by its id and the subject.
    list_display = ["public_id", "breach", "subject", "channel", "status", "sent_at"]
    list_filter = ["status", "channel"]
    exclude = ["address", "blind_index"]


@admin.register(BreachPack)
class BreachPackAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "breach", "generated_at", "sha256"]
