"""Building, recording, announcing and purging access packages."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from accounts.actors import actor_system
from audit.services import audit_batch, audit_record
from connectors.choices import Action
from dsr.choices import (
    PACKAGE_KINDS,
    TERMINAL_TASK_STATUSES,
    PackageKind,
    RequestStatus,
    TaskStatus,
)
from dsr.clock import local_date
from dsr.links import status_token
from dsr.models import AccessPackage, Request, RequestTask
from dsr.notifications import notify_subject
from dsr.packages.build import package_build
from dsr.packages.scan import PackageInput, PackageRefused, StoreInput
from dsr.regimes import supervisory_authority
from dsr.services.execution.finalising import (
    request_close_on_tasks,
    request_locked_with_tasks,
)
from dsr.services.requests import request_add_note

logger = logging.getLogger(__name__)
SYSTEM = actor_system("access_package")
_STORE_STATUS: dict[str, str] = {
    TaskStatus.SUCCEEDED: "searched",
    TaskStatus.EXEMPTED: "exempted",
}


def access_package_build_and_close(
    *, request_id: int, ended: list[RequestTask] | None = None
) -> str:
    """Build the package of a finished access/portability request, record it
    and close the request, or record why it cannot be built.

    Safe to run twice: a request that has its package is left alone. The ZIP
    is written to memory or a temporary file first and stored only under the
    request's row lock, so a refused or failed build leaves nothing behind.

    `ended`: the request's tasks (with their request, its subject and their
    connectors) as the executor's finalizer has just read them, all ended,
    under the request's row lock; they are not read again (whether a package
    exists, and the tasks' final state, are checked under the lock below)."""
    request: Request | None
    tasks: Sequence[RequestTask]
    if ended:
        request, has_package = ended[0].request, False
        tasks = sorted(
            (t for t in ended if t.action == Action.ACCESS),
            key=lambda t: t.connector.name,
        )
    else:
        request, has_package, tasks = _build_reads(request_id)
    if request is None:
        return "no-request"
    if has_package:
        return "exists"
    if request.kind not in PACKAGE_KINDS:
        return "not-an-access-request"
    if request.status != RequestStatus.IN_PROGRESS:
        return "not-in-progress"
    if not tasks or any(t.status not in TERMINAL_TASK_STATUSES for t in tasks):
        return "waiting"
    try:
        built = package_build(_package_input(request, tasks))
    except PackageRefused as refusal:
        _record_refusal(request, refusal)
        return "refused"
    stored: list[str] = []
    try:
        with transaction.atomic(), audit_batch():
            locked, final_tasks = request_locked_with_tasks(
                request.pk,
                RequestTask.objects.annotate(has_package=_task_request_has_package()),
            )
            if locked is None:
                return "no-request"
            if getattr(final_tasks[0], "has_package", False):
                return "exists"  # another delivery of this job got here first
            request = locked
            if request.status != RequestStatus.IN_PROGRESS:
                return "not-in-progress"
            public_id = uuid.uuid4()
            name = default_storage.save(
                f"access-packages/{request.public_id}/{public_id}.zip",
                File(built.file),
            )
            stored.append(name)
            package = AccessPackage.objects.create(
                public_id=public_id,
                request=request,
                kind=PackageKind(request.kind),
                file=name,
                size=built.size,
                sha256=built.sha256,
                contents=built.contents,
                record_count=built.record_count,
                expires_at=timezone.now()
                + timedelta(days=settings.ACCESS_PACKAGE_KEEP_DAYS),
                held=request.review_before_release,
            )
            audit_record(
                actor=SYSTEM,
                action="access_package.built",
                obj=request,
                data={
                    "package": str(package.public_id),
                    "sha256": package.sha256,
                    "size": package.size,
                    "records": package.record_count,
                    "entries": len(package.contents),
                },
            )
            if package.held:
                # An officer opens it and releases it (package_reviews); the
                # request stays open meanwhile and its clock runs.
                audit_record(
                    actor=SYSTEM,
                    action="access_package.held_for_review",
                    obj=request,
                    data={"package": str(package.public_id)},
                )
                return "held-for-review"
            # The row is locked and in progress (checked above): no second
            # lock read, no savepoint.
            outcome = request_close_on_tasks(
                actor=SYSTEM, request=request, tasks=final_tasks, notice="package_ready"
            )
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise
    finally:
        built.file.close()
    return outcome


def _task_request_has_package() -> Exists:
    """For a RequestTask query: whether the task's request has its package."""
    return Exists(AccessPackage.objects.filter(request_id=OuterRef("request_id")))


def _request_has_package() -> Exists:
    """For a Request query: whether the request has its package."""
    return Exists(AccessPackage.objects.filter(request=OuterRef("pk")))


def _build_reads(
    request_id: int,
) -> tuple[Request | None, bool, Sequence[RequestTask]]:
    """The request (with its subject), whether it has its package, and its
    access tasks with their connectors: one query, two if it has no task."""
    tasks = list(
        RequestTask.objects.filter(request_id=request_id, action=Action.ACCESS)
        .select_related("connector", "request__subject")
        .annotate(has_package=_task_request_has_package())
        .order_by("connector__name")
    )
    if tasks:
        return tasks[0].request, tasks[0].has_package, tasks
    # `has_package` is read with the request (one query, not two).
    request = (
        Request.objects.select_related("subject")
        .annotate(has_package=_request_has_package())
        .filter(pk=request_id)
        .first()
    )
    return request, bool(request and request.has_package), []


def _package_input(request: Request, tasks: Sequence[RequestTask]) -> PackageInput:
    stores = []
    for task in tasks:
        status = _STORE_STATUS.get(task.status, "incomplete")
        stores.append(
            StoreInput(
                connector=task.connector.name,
                status=status,
                result_file=task.result_file if status == "searched" else "",
                result_digest=task.result_digest,
                data_categories=tuple(task.connector.data_categories or ()),
                disclosure=task.connector.disclosure,
                withheld=tuple(task.exemptions or ()),
            )
        )
    return PackageInput(
        reference=request.reference,
        kind=request.kind,
        regime=request.regime,
        regime_label=request.get_regime_display(),
        received_at=request.received_at,
        generated_at=timezone.now(),
        pseudonym=request.subject.pseudonym,
        controller_name=settings.CONTROLLER_NAME,
        supervisory_authority=supervisory_authority(request.regime),
        privacy_url=settings.SITE_URL + reverse("portal:home"),
        time_zone=settings.CONTROLLER_TIME_ZONE,
        stores=stores,
        portability_categories=frozenset(settings.PORTABILITY_CATEGORIES),
    )


def _record_refusal(request: Request, refusal: PackageRefused) -> None:
    """Say on the request, for staff, why there is no package (B17)."""
    lines = "\n".join(f"- {problem}" for problem in refusal.problems)[:9000]
    with transaction.atomic():
        audit_record(
            actor=SYSTEM,
            action="access_package.refused",
            obj=request,
            data={"problems": refusal.problems},
        )
        request_add_note(
            actor=SYSTEM,
            request=request,
            text=(
                "The access package was not generated, so this request stays "
                f"open:\n{lines}\nCorrect the stores' disclosure information, "
                "then build the package again."
            ),
        )
    logger.warning(
        "access package for request %s refused: %d problem(s)",
        request.pk,
        len(refusal.problems),
    )


def access_package_notify_ready(*, request_id: int) -> bool:
    """E-mail the subject the page where they can download their package."""
    request = Request.objects.filter(pk=request_id).first()
    package = AccessPackage.objects.filter(request_id=request_id).first()
    if request is None or package is None or not package.file:
        return False
    package_url = settings.SITE_URL + reverse(
        "portal:package", args=[status_token(str(request.public_id))]
    )
    return notify_subject(
        request=request,
        notice="package_ready",
        extra={
            "package": package,
            "package_url": package_url,
            "available_until": local_date(package.expires_at),
            "link_days": settings.ACCESS_PACKAGE_LINK_DAYS,
        },
    )


def access_packages_purge_expired() -> int:
    """Delete the ZIPs (and their letters as PDF) past their end date; the
    rows stay as evidence."""
    now = timezone.now()
    purged = 0
    expired = AccessPackage.objects.filter(expires_at__lte=now).exclude(file="")
    for package in expired.select_related("request").iterator():
        with transaction.atomic():
            # Locked, so a letter PDF recorded meanwhile is seen and deleted.
            letter = (
                AccessPackage.objects.select_for_update()
                .filter(pk=package.pk, file=package.file)
                .values_list("letter_file", flat=True)
                .first()
            )
            if letter is None:
                continue
            AccessPackage.objects.filter(pk=package.pk).update(
                file="", letter_file="", purged_at=now
            )
            audit_record(
                actor=SYSTEM,
                action="access_package.purged",
                obj=package.request,
                data={"package": str(package.public_id), "sha256": package.sha256},
            )
            for name in (package.file, letter):
                if name:
                    transaction.on_commit(partial(default_storage.delete, name))
        purged += 1
    return purged
