"""An officer's review of an access package before the subject gets it
(REVIEW_BEFORE_ACCESS_RELEASE, issue 16).

A held package was built and stored like any other, but no code, link or
e-mail reaches the subject, and the request stays in progress (its clock
runs). An officer opens the ZIP from the request page (`access_package_open`,
audited), then releases it (`access_package_release`: the request closes with
the outcome its tasks add up to and the subject is told the package is
ready) or rejects the request with reasons (`request_reject`).
"""

from __future__ import annotations

from typing import IO

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.permissions import Perm
from audit.services import audit_batch, audit_record
from dsr.lifecycle import RequestAction, request_transition_check
from dsr.models import AccessPackage, Request, RequestNote
from dsr.services.execution.finalising import (
    request_close_on_tasks,
    request_locked_with_tasks,
)
from dsr.services.request_inputs import reason_clean
from dsr.services.requests import request_lock
from privacydesk.errors import IllegalTransition


def access_package_release(*, actor: Actor, request: Request, note: str = "") -> str:
    """Release a held package to the subject and close the request; returns
    the outcome it closed with. `note`: what the officer checked (optional,
    kept encrypted with the request's notes)."""
    actor.require(Perm.REQUEST_APPROVE)
    text = reason_clean(note, field="note", required=False)
    with transaction.atomic(), audit_batch():
        locked = request_lock(request)
        request_transition_check(action=RequestAction.RELEASE_PACKAGE, request=locked)
        _, tasks = request_locked_with_tasks(locked.pk)
        package = AccessPackage.objects.select_for_update().get(request=locked)
        package.held = False
        package.released_at = timezone.now()
        package.released_by = actor.ref[:100]
        package.save(update_fields=["held", "released_at", "released_by", "updated_at"])
        data: dict[str, object] = {"package": str(package.public_id)}
        if text:
            data["note_id"] = RequestNote.objects.create(
                request=locked, author=actor.ref, author_label=actor.label, text=text
            ).pk
        audit_record(
            actor=actor, action="access_package.released", obj=locked, data=data
        )
        return request_close_on_tasks(
            actor=actor, request=locked, tasks=tasks, notice="package_ready"
        )


def access_package_open(*, actor: Actor, package: AccessPackage) -> IO[bytes]:
    """The package's ZIP for an officer reviewing it (audited)."""
    actor.require(Perm.REQUEST_APPROVE)
    if not package.file:
        raise IllegalTransition("the package's file has been purged")
    audit_record(
        actor=actor,
        action="access_package.opened_for_review",
        obj=package.request,
        data={"package": str(package.public_id)},
    )
    return default_storage.open(package.file, "rb")
