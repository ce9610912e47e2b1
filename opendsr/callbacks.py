"""Status callbacks (spec §8.5, §8.6): one signed POST to one controller URL.

The URL came from a controller, so it is handled as the webhook kind
handles staff's URLs and more carefully: https only (plain http to this
machine only where OPENDSR_CALLBACK_ALLOW_LOOPBACK is on), never a
redirect followed, and the name resolved first and refused if it leads to
a private, link-local or otherwise non-public address. The body holds ids
and a status only, never an identity.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from connectors import opendsr_protocol as protocol
from opendsr.choices import DeliveryStatus
from opendsr.keys import signing_identity
from opendsr.models import CallbackDelivery
from opendsr.selectors import opendsr_status_document
from opendsr.services import callback_delivery_record

MAX_ANSWER_BYTES = 64 * 1024


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class Attempt:
    delivered: bool
    status_code: int | None = None
    error: str = ""
    retryable: bool = True


def signed_json(document: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """A document as the bytes we send and the headers that sign them."""
    body = json.dumps(document, separators=(",", ":")).encode()
    identity = signing_identity()
    headers = protocol.signed_headers(
        domain=identity.domain, signature=identity.sign(body)
    )
    return body, headers


def opendsr_callback_deliver(*, delivery_id: int, final: bool) -> Attempt | None:
    """Try one delivery once and record the attempt (`final`: the task will
    not try again). None when there is nothing left to send."""
    delivery = (
        CallbackDelivery.objects.select_related(
            "opendsr_request__request", "opendsr_request__client"
        )
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return None
    document = opendsr_status_document(
        item=delivery.opendsr_request, status=delivery.request_status
    )
    document["status_callback_url"] = delivery.url
    attempt = post(delivery.url, document)
    callback_delivery_record(
        delivery_id=delivery.pk,
        delivered=attempt.delivered,
        status_code=attempt.status_code,
        error=attempt.error,
        final=final or not attempt.retryable,
    )
    return attempt


def post(url: str, document: dict[str, Any]) -> Attempt:
    refusal = _address_refusal(url)
    if refusal:
        return Attempt(delivered=False, error=refusal, retryable=False)
    body, signature = signed_json(document)
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "PrivacyDesk-OpenDSR/1",
            **signature,
        },
    )
    timeout = settings.OPENDSR_CALLBACK_TIMEOUT_SECONDS
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(MAX_ANSWER_BYTES)
            return Attempt(delivered=True, status_code=response.status)
    except urllib.error.HTTPError as error:
        error.close()
        # Any 2xx is delivered (urllib raises only for the others); a
        # redirect is not followed and not retried; the rest may pass later.
        redirect = 300 <= error.code < 400
        return Attempt(
            delivered=False,
            status_code=error.code,
            error=f"answered HTTP {error.code}"
            + (": redirects are not followed" if redirect else ""),
            retryable=not redirect,
        )
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", None) or type(error).__name__
        return Attempt(delivered=False, error=f"unreachable: {reason}")


def _address_refusal(url: str) -> str:
    """Why this URL must not be called now ("" if it may): where its name
    leads today, checked at each attempt."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError:
        return ""  # unresolvable: the attempt fails as unreachable, retried
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_loopback and settings.OPENDSR_CALLBACK_ALLOW_LOOPBACK:
            continue
        if not address.is_global:
            return "refused: the callback host resolves to a non-public address"
    return ""
