from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from breaches.models import Breach, BreachNotice, BreachPack
from privacydesk.adminkit import ReadOnlyAdmin


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
