"""Writes of the OpenDSR door: take a controller's request in, cancel it,
and tell its callbacks when its status changes.

A request arrives as our own Request on channel `opendsr`, through the one
intake write path (dsr.services.intake), entered verified: in OpenDSR the
controller verifies the subject before it distributes the request (spec
§3.2, README "Request Sequence"), and the token it calls with is what
vouches for it. `submitted_time`, when the subject asked the controller,
is the request's receipt time: the legal clock (GDPR Art. 12(3), CCPA's 45
days) runs from the request reaching the controller, not from its arrival
at one of the controller's systems, and a request the controller passes on
later keeps its real date (docs/architecture.md, Deadlines). Our own
receipt time is kept too, and answered as `received_time`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.actors import actor_for_client
from accounts.models import ApiClient
from audit.services import audit_record
from dsr.choices import Channel
from dsr.models import Request
from dsr.services.intake import request_input_clean, requests_record
from dsr.services.requests import request_cancel
from opendsr.choices import DeliveryStatus
from opendsr.inputs import OpenDsrInput, body_parse, request_clean
from opendsr.models import CallbackDelivery, OpenDsrRequest
from opendsr.selectors import opendsr_status_of
from privacydesk.errors import ValidationFailed

CANCEL_REASON = "cancelled by the controller (OpenDSR DELETE)"


@dataclass(frozen=True)
class Submission:
    item: OpenDsrRequest
    created: bool


def opendsr_request_submit(*, client: ApiClient, body: bytes) -> Submission:
    """Take in one OpenDSR request body. The same body sent again under the
    same subject_request_id is the same request (nothing new is written);
    another body under a used id is refused."""
    digest = hashlib.sha256(body).hexdigest()
    checked = request_clean(body_parse(body))
    existing = _existing(client, checked, digest)
    if existing is not None:
        return Submission(existing, created=False)
    try:
        item = _record(client, checked, digest)
    except IntegrityError:
        # The same id sent twice at once: the other call wrote it.
        existing = _existing(client, checked, digest)
        if existing is None:
            raise
        return Submission(existing, created=False)
    _status_changed_after_commit(item.request_id)
    return Submission(item, created=True)


def _existing(
    client: ApiClient, checked: OpenDsrInput, digest: str
) -> OpenDsrRequest | None:
    item = (
        OpenDsrRequest.objects.select_related("request", "client")
        .filter(client=client, subject_request_id=checked.subject_request_id)
        .first()
    )
    if item is not None and item.body_digest != digest:
        raise ValidationFailed(
            "this subject_request_id was sent before with another request",
            field="subject_request_id",
        )
    return item


def _record(client: ApiClient, checked: OpenDsrInput, digest: str) -> OpenDsrRequest:
    actor = actor_for_client(client)
    try:
        request_input = request_input_clean(
            actor=actor,
            kind=checked.kind,
            regime=checked.regime,
            channel=Channel.OPENDSR,
            identity=checked.identity,
            received_at=checked.submitted_time,
            verified=True,
        )
    except ValidationFailed as error:
        raise _renamed(error, checked) from None
    with transaction.atomic():
        request = requests_record(actor=actor, inputs=[request_input])[0]
        item = OpenDsrRequest.objects.create(
            client=client,
            request=request,
            subject_request_id=checked.subject_request_id,
            api_version=checked.api_version,
            callback_urls=checked.callback_urls,
            body_digest=digest,
            submitted_time=checked.submitted_time,
            received_time=timezone.now(),
        )
        audit_record(
            actor=actor,
            action="request.opendsr_received",
            obj=request,
            data={
                "subject_request_id": str(item.subject_request_id),
                "submitted_time": item.submitted_time,
                "callbacks": len(item.callback_urls),
            },
        )
    return item


def _renamed(error: ValidationFailed, checked: OpenDsrInput) -> ValidationFailed:
    """A fault the intake found, named by the OpenDSR field it came from."""
    field = error.field or ""
    if field == "received_at":
        return ValidationFailed(error.message, field="submitted_time")
    key = field.removeprefix("identity.")
    path = checked.identity_paths.get(key, "subject_identities")
    return ValidationFailed(error.message, field=path)


def opendsr_request_cancel(
    *, client: ApiClient, item: OpenDsrRequest
) -> OpenDsrRequest:
    """DELETE: cancel while pending (spec §9). Asked again after it worked,
    the same receipt; asked once the work started, refused (400)."""
    if item.cancel_received_time is not None:
        return item
    status = opendsr_status_of(request=item.request)
    if status != "pending":
        raise ValidationFailed(
            f"only a pending request can be cancelled; this one is {status}",
            field="subject_request_id",
        )
    actor = actor_for_client(client)
    with transaction.atomic():
        request = request_cancel(
            actor=actor, request=item.request, reason=CANCEL_REASON
        )
        changed = OpenDsrRequest.objects.filter(
            pk=item.pk, cancel_received_time__isnull=True
        ).update(cancel_received_time=timezone.now())
        if changed != 1:  # a concurrent DELETE got there first
            transaction.set_rollback(True)
    item.refresh_from_db()
    item.request = request
    return item


def _status_changed_after_commit(request_id: int) -> None:
    # Local: tasks imports the services back (the task <-> service pair).
    from opendsr.tasks import opendsr_status_changed_task

    transaction.on_commit(lambda: opendsr_status_changed_task.delay(request_id))


def opendsr_status_changed(*, request_id: int) -> list[CallbackDelivery]:
    """If the OpenDSR status of this request is not the one last told, tell
    it: one delivery per callback URL, each sent by its own task after
    commit. A request that did not come by OpenDSR, or whose status has not
    changed in OpenDSR's words, sends nothing (safe to run twice)."""
    with transaction.atomic():
        item = (
            OpenDsrRequest.objects.select_for_update()
            .filter(request_id=request_id)
            .first()
        )
        if item is None:
            return []
        request = Request.objects.get(pk=request_id)
        status = opendsr_status_of(request=request)
        if status == item.notified_status:
            return []
        item.notified_status = status
        item.save(update_fields=["notified_status", "updated_at"])
        deliveries = [
            CallbackDelivery.objects.get_or_create(
                opendsr_request=item, url=url, request_status=status
            )[0]
            for url in item.callback_urls
        ]
        _deliveries_after_commit([d.pk for d in deliveries])
    return deliveries


def _deliveries_after_commit(delivery_ids: list[int]) -> None:
    from opendsr.tasks import opendsr_callback_deliver_task

    def send() -> None:
        for delivery_id in delivery_ids:
            opendsr_callback_deliver_task.delay(delivery_id)

    transaction.on_commit(send)


def callback_delivery_record(
    *,
    delivery_id: int,
    delivered: bool,
    status_code: int | None,
    error: str,
    final: bool,
) -> CallbackDelivery:
    """One attempt of a callback, counted; `final`: no attempt will follow."""
    with transaction.atomic():
        delivery = CallbackDelivery.objects.select_for_update().get(pk=delivery_id)
        delivery.attempts += 1
        delivery.last_status_code = status_code
        delivery.last_error = error[:500]
        if delivered:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = timezone.now()
        elif final:
            delivery.status = DeliveryStatus.FAILED
        delivery.save()
    return delivery
