"""Masking's background work: thin tasks taking ids."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from accounts.actors import actor_system
from dsr.choices import RequestKind
from dsr.models import Request
from masking.shredding import vault_purge_idle, vault_shred_for_request


@shared_task(acks_late=True)
def masking_request_started_task(request_id: int) -> None:
    """Wired to the request lifecycle by name (settings.REQUEST_STARTED_TASKS):
    an erasure that starts shreds its subject's vault; any other request is
    left alone."""
    request = Request.objects.filter(pk=request_id, kind=RequestKind.ERASURE).first()
    if request is None:
        return
    vault_shred_for_request(actor=actor_system("masking"), request=request)


@shared_task(acks_late=True)
def vault_purge_idle_task() -> int:
    """Daily (settings.CELERY_BEAT_SCHEDULE): forget idle conversations."""
    return vault_purge_idle(
        actor=actor_system("masking"), idle_days=settings.MASKING_VAULT_IDLE_DAYS
    )
