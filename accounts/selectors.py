from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from accounts.actors import Actor
from accounts.choices import Role
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


def staff_users_list(*, actor: Actor) -> QuerySet[User]:
    """Everyone who may sign in to the dashboard (a role, staff or superuser)."""
    actor.require(Perm.STAFF_SECURITY_MANAGE)
    return (
        User.objects.filter(
            Q(is_staff=True) | Q(is_superuser=True) | Q(groups__name__in=Role.values)
        )
        .distinct()
        .order_by("username")
    )


def staff_user_get(*, actor: Actor, user_id: int) -> User:
    return staff_users_list(actor=actor).get(pk=user_id)
