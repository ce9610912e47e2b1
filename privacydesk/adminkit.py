"""What the apps' admin pages share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

if TYPE_CHECKING:
    # django-stubs' ModelAdmin is generic in its model; Django's class takes no
    # subscript at run time (django_stubs_ext, which adds one, is a dev tool).
    _AdminBase = admin.ModelAdmin[Model]
else:
    _AdminBase = admin.ModelAdmin


class ReadOnlyAdmin(_AdminBase):
    """Changes go through the dashboard and the services, so they are
    validated and audited: the admin only shows."""

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
