"""Who is acting: a staff member, an API client, the data subject or the system.

Services take an `Actor` and check it; the audit log records `actor.ref`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from accounts.choices import Role
from accounts.permissions import ROLE_PERMISSIONS, Perm, permissions_for_scopes
from privacydesk.errors import NotPermitted

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from accounts.models import ApiClient

ActorKind = Literal["staff", "api", "subject", "system"]


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    ref: str  # stable id for the audit log: "user:12", "client:<uuid>", ...
    label: str  # shown to staff; never a data subject's identifier
    permissions: frozenset[Perm] = field(default_factory=frozenset)
    user_id: int | None = None
    client_id: int | None = None

    def can(self, perm: Perm) -> bool:
        return perm in self.permissions

    def require(self, perm: Perm) -> None:
        if not self.can(perm):
            raise NotPermitted(f"{self.label} may not {perm.value.replace('.', ' ')}")


def staff_role(user: User) -> str | None:
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    names = set(user.groups.values_list("name", flat=True))
    for role in Role:
        if role.value in names:
            return role.value
    return None


def actor_for_user(user: User) -> Actor:
    role = staff_role(user) if user.is_authenticated else None
    return Actor(
        kind="staff",
        ref=f"user:{user.pk}",
        label=user.get_username(),
        permissions=ROLE_PERMISSIONS.get(role, frozenset()) if role else frozenset(),
        user_id=user.pk,
    )


def actor_for_client(client: ApiClient) -> Actor:
    return Actor(
        kind="api",
        ref=f"client:{client.public_id}",
        label=f"API client {client.name}",
        permissions=permissions_for_scopes(client.scopes),
        client_id=client.pk,
    )


def actor_for_subject(request_public_id: str) -> Actor:
    """The data subject acting through the portal on their own request."""
    return Actor(
        kind="subject",
        ref=f"subject:{request_public_id}",
        label="the data subject",
        permissions=frozenset(
            {Perm.REQUEST_CREATE, Perm.REQUEST_CANCEL, Perm.REQUEST_VIEW}
        ),
    )


def actor_system(name: str) -> Actor:
    return Actor(
        kind="system", ref=f"system:{name}", label=name, permissions=frozenset(Perm)
    )


def actor_portal() -> Actor:
    """The public portal recording a new request: it may create, nothing more
    (it sets neither received_at nor verified)."""
    return Actor(
        kind="system",
        ref="system:portal",
        label="the privacy portal",
        permissions=frozenset({Perm.REQUEST_CREATE}),
    )
