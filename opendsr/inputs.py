"""Reading an OpenDSR request body (spec §7.1) into our request's input.

Every fault is a ValidationFailed naming the field path
(`subject_identities[1].identity_format`); messages never repeat a value,
since values are identities (spec §7.6).

What is honoured, and why:
- identity formats: `raw` only. A hashed e-mail (sha256/md5/sha1) cannot be
  searched for in the stores a request fans out to (each is searched by the
  plain identifier), and matching it to a known subject would mean
  decrypting every subject's address. So a hashed identity is refused with
  a 400 naming it, and discovery lists only raw formats.
- identity types: `email` becomes the request's e-mail; every other §5.1
  type becomes a customer id in a namespace named after the type
  (`customer_ids.ios_advertising_id`), which a connector can be pointed at.
  One identity per type.
- `extensions`: accepted (an object of objects keyed by processor domain,
  §7.1.2) and ignored: we implement none, so no identity is read from one.
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from connectors import opendsr_protocol as protocol
from connectors.kinds.http import LOOPBACK_HOSTS
from dsr.choices import Regime, RequestKind
from privacydesk.errors import ValidationFailed

MAX_BODY_BYTES = 64 * 1024
MAX_IDENTITIES = 20
MAX_CALLBACKS = 10
MAX_URL = 2000
MAX_VALUE = 200
HONOURED_FORMATS = ("raw",)
FIELDS = frozenset(
    {
        "regulation",
        "subject_request_id",
        "subject_request_type",
        "subject_identities",
        "submitted_time",
        "api_version",
        "status_callback_urls",
        "extensions",
    }
)
REQUIRED = (
    "regulation",
    "subject_request_id",
    "subject_request_type",
    "subject_identities",
    "submitted_time",
)
KINDS = {
    "access": RequestKind.ACCESS,
    "portability": RequestKind.PORTABILITY,
    "erasure": RequestKind.ERASURE,
}
REGIMES = {"gdpr": Regime.GDPR, "ccpa": Regime.CCPA}


@dataclass(frozen=True)
class OpenDsrInput:
    """A checked OpenDSR request: what the intake writes."""

    subject_request_id: uuid.UUID
    kind: str
    regime: str
    identity: dict[str, Any]
    # Where each identity document key came from, to name faults found later.
    identity_paths: dict[str, str]
    submitted_time: datetime
    api_version: str
    callback_urls: list[str]


def body_parse(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a 400 that says why not."""
    if len(body) > MAX_BODY_BYTES:
        raise ValidationFailed(f"at most {MAX_BODY_BYTES} bytes", field="body")
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("the body is not valid JSON", field="body") from None
    if not isinstance(document, dict):
        raise ValidationFailed("the body must be a JSON object", field="body")
    return document


def request_clean(document: Mapping[str, Any]) -> OpenDsrInput:
    unknown = sorted(set(document) - FIELDS)
    if unknown:
        raise ValidationFailed("unknown field", field=unknown[0])
    for name in REQUIRED:
        if document.get(name) in (None, "", []):
            raise ValidationFailed(f"{name} is required", field=name)
    identity, paths = identities_clean(document["subject_identities"])
    extensions = document.get("extensions")
    if extensions is not None and not (
        isinstance(extensions, dict)
        and all(isinstance(v, dict) for v in extensions.values())
    ):
        raise ValidationFailed(
            "must be an object of objects keyed by processor domain",
            field="extensions",
        )
    return OpenDsrInput(
        subject_request_id=subject_request_id_clean(document["subject_request_id"]),
        kind=KINDS[_choice(document["subject_request_type"], "subject_request_type")],
        regime=REGIMES[_choice(document["regulation"], "regulation")],
        identity=identity,
        identity_paths=paths,
        submitted_time=submitted_time_clean(document["submitted_time"]),
        api_version=api_version_clean(document.get("api_version")),
        callback_urls=callback_urls_clean(document.get("status_callback_urls")),
    )


def _choice(value: Any, field: str) -> str:
    allowed = {
        "subject_request_type": protocol.REQUEST_TYPES,
        "regulation": protocol.REGULATIONS,
    }[field]
    if value not in allowed:
        raise ValidationFailed(f"must be one of {', '.join(allowed)}", field=field)
    return str(value)


def subject_request_id_clean(
    value: Any, field: str = "subject_request_id"
) -> uuid.UUID:
    """A lowercase UUID v4 (spec §1.1, §7.1.1)."""
    try:
        parsed = uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.version != 4 or str(parsed) != value:
        raise ValidationFailed("must be a lowercase UUID v4", field=field)
    return parsed


def submitted_time_clean(value: Any) -> datetime:
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None or timezone.is_naive(moment):
        raise ValidationFailed(
            "must be an RFC 3339 date-time with a time zone", field="submitted_time"
        )
    if moment > timezone.now() + timedelta(minutes=5):
        raise ValidationFailed("cannot be in the future", field="submitted_time")
    return moment


def api_version_clean(value: Any) -> str:
    """Absent, or a major.minor version we speak: 2.x, or OpenGDPR's 1.x."""
    if value is None:
        return ""
    if not isinstance(value, str) or value.split(".")[0] not in ("1", "2"):
        raise ValidationFailed("must be a version such as 2.0", field="api_version")
    if len(value) > 10:
        raise ValidationFailed("at most 10 characters", field="api_version")
    return value


def identities_clean(value: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The §5.3 identity objects as our identity document."""
    if not isinstance(value, list):
        raise ValidationFailed("must be a list", field="subject_identities")
    if len(value) > MAX_IDENTITIES:
        raise ValidationFailed(
            f"at most {MAX_IDENTITIES} identities", field="subject_identities"
        )
    identity: dict[str, Any] = {}
    paths: dict[str, str] = {}
    seen: set[str] = set()
    for index, item in enumerate(value):
        path = f"subject_identities[{index}]"
        if not isinstance(item, dict):
            raise ValidationFailed("must be an object", field=path)
        unknown = sorted(
            set(item) - {"identity_type", "identity_value", "identity_format"}
        )
        if unknown:
            raise ValidationFailed("unknown field", field=f"{path}.{unknown[0]}")
        kind = item.get("identity_type")
        if kind not in protocol.IDENTITY_TYPES:
            raise ValidationFailed(
                "not an identity type of OpenDSR §5.1", field=f"{path}.identity_type"
            )
        form = item.get("identity_format")
        if form not in protocol.IDENTITY_FORMATS:
            raise ValidationFailed(
                f"must be one of {', '.join(protocol.IDENTITY_FORMATS)}",
                field=f"{path}.identity_format",
            )
        if form not in HONOURED_FORMATS:
            raise ValidationFailed(
                "hashed identities are not honoured here (see discovery's "
                "supported_identities): send the raw value",
                field=f"{path}.identity_format",
            )
        raw = item.get("identity_value")
        if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_VALUE:
            raise ValidationFailed(
                f"must be a non-empty string of at most {MAX_VALUE} characters",
                field=f"{path}.identity_value",
            )
        if kind in seen:
            raise ValidationFailed(
                "one identity of each type per request", field=f"{path}.identity_type"
            )
        seen.add(kind)
        if kind == "email":
            identity["email"] = raw.strip()
            paths["email"] = f"{path}.identity_value"
        else:
            identity.setdefault("customer_ids", {})[kind] = raw.strip()
            paths[f"customer_ids.{kind}"] = f"{path}.identity_value"
    return identity, paths


def callback_urls_clean(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_CALLBACKS:
        raise ValidationFailed(
            f"must be a list of at most {MAX_CALLBACKS} URLs",
            field="status_callback_urls",
        )
    urls: list[str] = []
    for index, url in enumerate(value):
        cleaned = callback_url_clean(url, field=f"status_callback_urls[{index}]")
        if cleaned not in urls:
            urls.append(cleaned)
    return urls


def callback_url_clean(url: Any, *, field: str) -> str:
    """A URL we may POST a status to: https to a name or a public address;
    plain http only to this machine, and only where loopback is allowed."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise ValidationFailed(
            f"must be a URL of at most {MAX_URL} characters", field=field
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValidationFailed("not a valid URL", field=field) from None
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise ValidationFailed("must be an absolute https:// URL", field=field)
    if parts.username or parts.password or parts.fragment:
        raise ValidationFailed("must hold no credentials and no #fragment", field=field)
    loopback = host in LOOPBACK_HOSTS
    if loopback and not settings.OPENDSR_CALLBACK_ALLOW_LOOPBACK:
        raise ValidationFailed("must not point at this machine", field=field)
    if parts.scheme == "http" and not loopback:
        raise ValidationFailed("must use https", field=field)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and not address.is_global and not loopback:
        raise ValidationFailed("must not point at a private address", field=field)
    return url
