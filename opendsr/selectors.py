"""Reads of the OpenDSR door: a controller's own requests, and what we tell it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.urls import reverse

from accounts.models import ApiClient
from connectors import opendsr_protocol as protocol
from dsr.choices import PackageKind, RequestStatus
from dsr.clock import end_of_day
from dsr.links import status_token
from dsr.models import Request
from dsr.packages.selectors import (
    access_package_for_request,
    access_package_is_available,
)
from opendsr.models import OpenDsrRequest
from privacydesk.errors import DomainError

# Our lifecycle in OpenDSR's four words (§8). OpenDSR has no word for a
# request that ended without being fulfilled: "completed" says it was, so
# only our `completed` (every store done, or exempt with a legal basis) is
# told as completed; a partial or failed close and a rejection are told as
# `cancelled`, the one status that claims nothing was done in full.
STATUS_MAP: dict[str, str] = {
    RequestStatus.RECEIVED: protocol.PENDING,
    RequestStatus.VERIFIED: protocol.PENDING,
    RequestStatus.IN_PROGRESS: protocol.IN_PROGRESS,
    RequestStatus.COMPLETED: protocol.COMPLETED,
    RequestStatus.PARTIALLY_COMPLETED: protocol.CANCELLED,
    RequestStatus.FAILED: protocol.CANCELLED,
    RequestStatus.REJECTED: protocol.CANCELLED,
    RequestStatus.CANCELLED: protocol.CANCELLED,
}


class UnknownRequest(DomainError):
    status_code = 404
    code = "not_found"


def opendsr_status_of(*, request: Request) -> str:
    return STATUS_MAP[request.status]


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def opendsr_request_get_for_client(
    *, client: ApiClient, subject_request_id: str
) -> OpenDsrRequest:
    """A controller reaches only the requests it sent."""
    try:
        key = uuid.UUID(subject_request_id)
    except ValueError:
        raise UnknownRequest("no such request", field="subject_request_id") from None
    item = (
        OpenDsrRequest.objects.select_related("request", "client")
        .filter(client=client, subject_request_id=key)
        .first()
    )
    if item is None:
        raise UnknownRequest("no such request", field="subject_request_id")
    return item


def opendsr_request_by_request_id(*, request_id: int) -> OpenDsrRequest | None:
    return (
        OpenDsrRequest.objects.select_related("request", "client")
        .filter(request_id=request_id)
        .first()
    )


def controller_id(item: OpenDsrRequest) -> str:
    """How we know the controller: its API client's public id."""
    return str(item.client.public_id)


def expected_completion_time(item: OpenDsrRequest) -> str:
    """The legal deadline: the end of the due day, in the controller's zone."""
    return rfc3339(end_of_day(item.request.due_on))


def opendsr_results(*, item: OpenDsrRequest) -> dict[str, Any]:
    """`results_url` and `results_count` once an access package exists: the
    portal's package page, where the subject proves it is them again (a
    fresh e-mailed code) before a signed, expiring download link."""
    request = item.request
    if request.kind not in (PackageKind.ACCESS, PackageKind.PORTABILITY):
        return {}
    package = access_package_for_request(request=request)
    if package is None or not access_package_is_available(package=package):
        return {}
    path = reverse("portal:package", args=[status_token(str(request.public_id))])
    return {
        "results_url": f"{settings.SITE_URL}{path}",
        "results_count": package.record_count,
    }


def opendsr_status_document(
    *, item: OpenDsrRequest, status: str | None = None
) -> dict[str, Any]:
    """The status object of §8.3 (`status`: the one a callback announces)."""
    document: dict[str, Any] = {
        "controller_id": controller_id(item),
        "expected_completion_time": expected_completion_time(item),
        "subject_request_id": str(item.subject_request_id),
        "request_status": status or opendsr_status_of(request=item.request),
        "api_version": protocol.API_VERSION,
    }
    document.update(opendsr_results(item=item))
    return document
