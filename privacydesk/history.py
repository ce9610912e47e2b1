"""django-simple-history glue: who made a change, when it was a staff member."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model
from django.http import HttpRequest
from simple_history.models import HistoricalRecords


def history_user(request: HttpRequest | None = None, **kwargs: Any) -> Any:
    """The staff user behind a change, or None for API clients and the system.

    API clients are not Users, so they cannot be history users; the audit log
    records them (and every other actor) instead.
    """
    user = getattr(request, "user", None) if request is not None else None
    if isinstance(user, AbstractBaseUser) and user.is_authenticated:
        return user
    return None


def history(*, table_name: str | None = None) -> HistoricalRecords:
    """History for a model; `table_name` keeps the table of a model that
    moved between apps."""
    return HistoricalRecords(get_user=history_user, table_name=table_name)


def history_bulk_create(model: type[Model], rows: Sequence[Model]) -> None:
    """The "created" history rows of rows written by `bulk_create` (which
    sends no signal), with the user the middleware would have recorded: one
    INSERT for all of them."""
    if not rows:
        return
    request = getattr(HistoricalRecords.context, "request", None)
    _history_manager(model).bulk_history_create(
        rows, default_user=history_user(request)
    )


@cache
def _history_manager(model: type[Model]) -> Any:
    """The model's history manager, built once: the library's descriptor
    builds a new manager class at every access (a few ms of CPU)."""
    return getattr(model, "history")  # noqa: B009  # added by the library
