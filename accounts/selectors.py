from __future__ import annotations

from django.db.models import QuerySet

from accounts.actors import Actor
from accounts.models import ApiClient
from accounts.permissions import Perm


def api_client_list(*, actor: Actor) -> QuerySet[ApiClient]:
    actor.require(Perm.CLIENTS_MANAGE)
    return ApiClient.objects.all()


def api_client_get(*, actor: Actor, public_id: str) -> ApiClient:
    actor.require(Perm.CLIENTS_MANAGE)
    return ApiClient.objects.get(public_id=public_id)


def api_client_by_token_hash(*, token_hash: str) -> ApiClient | None:
    return ApiClient.objects.filter(
        token_hash=token_hash, revoked_at__isnull=True
    ).first()
