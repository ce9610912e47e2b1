from __future__ import annotations

from django.db.models import F, QuerySet

from accounts.actors import Actor
from accounts.permissions import Perm
from alerts.models import Alert, MonitorState


def alert_list(*, actor: Actor) -> QuerySet[Alert]:
    """Every alert, open ones first, newest first within each."""
    actor.require(Perm.ALERTS_VIEW)
    return Alert.objects.select_related("acknowledged_by").order_by(
        F("acknowledged_at").desc(nulls_first=True), "-raised_at", "-pk"
    )


def alerts_open_count() -> int:
    """For the navigation badge (callers check who may see it)."""
    return Alert.objects.filter(acknowledged_at__isnull=True).count()


def alert_get(*, actor: Actor, public_id: str) -> Alert:
    actor.require(Perm.ALERTS_VIEW)
    return Alert.objects.get(public_id=public_id)


def monitor_state() -> MonitorState | None:
    return MonitorState.objects.order_by("pk").first()
