"""`opendsr`: forward a request to a processor that speaks OpenDSR 2.0.

Facts from https://github.com/opengdpr/OpenDSR (specification.md, v2.0;
security_guidelines.md), Apache-2.0:
- §6: GET `<base>/discovery` lists `supported_identities` (type and format
  pairs), `supported_subject_request_types` and `processor_certificate`.
  We send each identity we hold in a format the processor lists: raw when
  it takes raw, else hashed (sha256, sha1, md5, in that order of
  preference; connectors.opendsr_protocol.identity_hash says how).
- §7: POST `<base>/requests` answers 201 with a receipt; a malformed
  request is a 400 with the error object. §8: GET `<base>/requests/{id}`
  answers the status (`pending`, `in_progress`, `completed`, `cancelled`)
  and, when done, `results_url` / `results_count`. §8.5-8.8: the
  processor POSTs the same status to each `status_callback_urls` entry,
  signed; we give one URL per task (opendsr app, /opendsr/v1/callbacks/).
- Signatures (`X-OpenDSR-Signature`, or OpenGDPR 1.0's `X-OpenGDPR-*`
  names, §10.1) are RSA PKCS#1 v1.5 SHA-256 over the raw body; we verify
  the 201 receipt and every status answer too (the spec is unclear whether
  a controller must: issue #50), with the certificate staff pinned in the
  config or, failing that, the one discovery names, which must be issued
  for the processor's domain and be in date. A pinned certificate is the
  trust anchor; a fetched one is not checked against a CA chain here.
- Auth is out of scope of the spec (§4.3): the optional `token` secret is
  sent as a bearer token.

The request's `subject_request_id` is derived from our task's id (a UUID in
version 4 form), so sending again after a lost answer is the same request
at the processor. An access request ends with the processor's
`results_url` and count recorded on the task (its records stay with the
processor: OpenDSR leaves their transfer to the parties); an erasure ends
when the processor reports `completed`, by callback or, after its
`expected_completion_time`, by asking for the status.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from connectors import opendsr_protocol as protocol
from connectors.base import (
    JSON_SCHEMA_DIALECT,
    ConfigError,
    ConnectorError,
    ConnectorKind,
    Deferred,
    ErasureReceipt,
    HealthReport,
    Identity,
    Job,
    Outcome,
    RecordSink,
)
from connectors.choices import Action
from connectors.kinds.http import LOOPBACK_HOSTS

DEFAULT_TIMEOUT_SECONDS = 15
MAX_TIMEOUT_SECONDS = 120
MAX_ANSWER_BYTES = 1024 * 1024
CERTIFICATE_CACHE_SECONDS = 3600
HASH_PREFERENCE = ("raw", "sha256", "sha1", "md5")
REQUEST_TYPES: dict[str, str] = {Action.ACCESS: "access", Action.ERASE: "erasure"}
REGULATIONS = {"gdpr": "gdpr", "uk_gdpr": "gdpr", "ccpa": "ccpa"}
# The key of an erasure receipt's `known` under which the processor's
# request id travels to the verification pass (another task's job).
RECEIPT_KEY = "opendsr_subject_request_id"


class CallbackRefused(Exception):
    """A callback we do not accept, with the answer security_guidelines.md
    gives for it: 401 (domain not ours to trust, certificate unusable) or
    400 (signature does not verify, body not JSON, not our URL or request)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class ProcessorStatus:
    """A status (§8.3) or callback (§8.6) the processor signed."""

    subject_request_id: str
    request_status: str
    expected_completion_time: str = ""
    results_url: str = ""
    results_count: int | None = None
    status_callback_url: str = ""

    def note(self, store: str) -> str:
        said = f"{store} reports {self.request_status}"
        if self.results_url:
            count = (
                f" ({self.results_count} records)"
                if self.results_count is not None
                else ""
            )
            said += f"; results at {self.results_url}{count}"
        return said


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would send identities somewhere staff never configured."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def subject_request_id_for(task_id: str) -> str:
    """Our task's id as an OpenDSR subject_request_id: a lowercase UUID in
    version 4 form (§1.1), the same every time for the same task."""
    digest = hashlib.sha256(f"opendsr:{task_id}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def callback_url(task_id: str) -> str:
    """Where the processor tells us of this task's request: an id only."""
    path = reverse("opendsr-callback", kwargs={"task_id": task_id})
    return f"{settings.SITE_URL}{path}"


class OpenDsrConnector(ConnectorKind):
    """Forwards access and erasure requests to an OpenDSR processor."""

    kind = "opendsr"
    label = "OpenDSR processor"
    actions = frozenset({Action.ACCESS, Action.ERASE, Action.VERIFY_ERASURE})
    secret_fields = ("token",)
    # The processor receives the request itself (Art. 19 notification).
    reaches_processor = True

    # -- configuration ------------------------------------------------------
    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        return {
            "$schema": JSON_SCHEMA_DIALECT,
            "title": cls.label,
            "type": "object",
            "properties": {
                "base_url": {
                    "type": "string",
                    "format": "uri",
                    "pattern": "^https?://",
                    "description": "the processor's OpenDSR root with its major "
                    "version, e.g. https://opendsr.processor.example/v1 "
                    "(plain http only to this machine)",
                },
                "processor_domain": {
                    "type": "string",
                    "description": "the domain its certificate is issued for "
                    "(X-OpenDSR-Processor-Domain); only it may call back",
                },
                "certificate": {
                    "type": "string",
                    "description": "its signing certificate, PEM; when absent, "
                    "the one its discovery names is fetched",
                },
                "timeout_seconds": {
                    "type": "number",
                    "minimum": 1,
                    "maximum": MAX_TIMEOUT_SECONDS,
                    "default": DEFAULT_TIMEOUT_SECONDS,
                },
            },
            "required": ["base_url", "processor_domain"],
            "additionalProperties": False,
        }

    @classmethod
    def validate_config(cls, config: Any) -> dict[str, Any]:
        config = super().validate_config(config)
        allowed = {"base_url", "processor_domain", "certificate", "timeout_seconds"}
        unknown = sorted(set(config) - allowed)
        if unknown:
            raise ConfigError("unknown field", field=f"config.{unknown[0]}")
        domain = config.get("processor_domain")
        if not isinstance(domain, str) or not domain.strip() or "/" in domain:
            raise ConfigError(
                "the processor's domain, e.g. opendsr.processor.example",
                field="config.processor_domain",
            )
        cleaned: dict[str, Any] = {
            "base_url": _clean_url(config.get("base_url"), "config.base_url"),
            "processor_domain": domain.strip().lower(),
            "timeout_seconds": _clean_timeout(
                config.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
            ),
        }
        pem = config.get("certificate")
        if pem not in (None, ""):
            if not isinstance(pem, str):
                raise ConfigError(
                    "must be a PEM certificate", field="config.certificate"
                )
            try:
                certificate = protocol.certificate_load(pem)
            except ValueError:
                raise ConfigError(
                    "not a PEM certificate", field="config.certificate"
                ) from None
            problem = certificate_problem(certificate, cleaned["processor_domain"])
            if problem:
                raise ConfigError(problem, field="config.certificate")
            cleaned["certificate"] = pem.strip()
        return cleaned

    def health(self) -> HealthReport:
        discovery = self.discovery()
        version = str(discovery.get("api_version", ""))
        if version.split(".")[0] not in ("1", "2"):
            raise ConnectorError(
                f"{self.name} speaks OpenDSR {version or '?'}; we speak 2.0",
                permanent=True,
            )
        self.certificate()
        types = ", ".join(discovery.get("supported_subject_request_types") or [])
        return HealthReport(f"OpenDSR {version}; takes {types or 'no requests'}")

    # -- the job ------------------------------------------------------------
    def run(self, job: Job, sink: RecordSink) -> Outcome | Deferred:
        if job.action == Action.VERIFY_ERASURE:
            return self._verify(job)
        if job.action not in REQUEST_TYPES:
            raise ConnectorError(
                f"OpenDSR has no {job.action} request (only access, portability "
                "and erasure, §6.2)",
                permanent=True,
            )
        return self._submit(job)

    def verify_erased(
        self, identity: Identity, receipt: ErasureReceipt | None = None
    ) -> Outcome:
        raise ConnectorError(
            "an OpenDSR erasure is verified with its request id (run a job)",
            permanent=True,
        )

    def _submit(self, job: Job) -> Deferred:
        discovery = self.discovery()
        request_type = REQUEST_TYPES[job.action]
        if request_type not in (discovery.get("supported_subject_request_types") or []):
            raise ConnectorError(
                f"{self.name} does not take {request_type} requests (its discovery)",
                permanent=True,
            )
        request_id = subject_request_id_for(job.task_id)
        submitted = job.received_at or timezone.now()
        document = {
            "subject_request_id": request_id,
            "regulation": REGULATIONS.get(job.regime, "gdpr"),
            "subject_request_type": request_type,
            "submitted_time": submitted.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "subject_identities": self.identities(job.identity, discovery),
            "api_version": protocol.API_VERSION,
            "status_callback_urls": [callback_url(job.task_id)],
        }
        body = json.dumps(document, separators=(",", ":")).encode()
        status, headers, answer = self._call("POST", "/requests", body)
        if status not in (200, 201):
            raise self._refusal(status, answer)
        receipt = json.loads(self._verified(headers, answer))
        if not isinstance(receipt, dict) or receipt.get("subject_request_id") != (
            request_id
        ):
            raise ConnectorError(
                f"{self.name}'s receipt names another request", permanent=False
            )
        expected = _moment(receipt.get("expected_completion_time"))
        note = f"{self.name} took request {request_id}"
        if expected is not None:
            note += f"; expects to finish by {expected.isoformat()}"
        if job.action != Action.ERASE:
            return Deferred(reference=request_id, note=note)
        # Its callback usually comes first; if none has by its own date, the
        # waiting check asks for the status (dsr.services.execution.waiting).
        return Deferred(
            reference=request_id,
            note=note,
            check_at=expected or timezone.now() + timedelta(days=1),
            receipt=erasure_receipt(request_id, note),
        )

    def _verify(self, job: Job) -> Outcome | Deferred:
        known = job.receipt.known.get(RECEIPT_KEY, ()) if job.receipt else ()
        request_id = known[0] if known else subject_request_id_for(job.task_id)
        status = self.status(request_id)
        if status.request_status == protocol.COMPLETED:
            return Outcome(note=status.note(self.name))
        if status.request_status == protocol.CANCELLED:
            raise ConnectorError(
                f"{self.name} cancelled request {request_id}", permanent=True
            )
        return Deferred(reference=request_id, note=status.note(self.name))

    def status(self, request_id: str) -> ProcessorStatus:
        """GET the processor's signed status of one of our requests."""
        code, headers, answer = self._call("GET", f"/requests/{request_id}")
        if code != 200:
            raise self._refusal(code, answer)
        parsed = status_parse(self._verified(headers, answer))
        if parsed.subject_request_id != request_id:
            raise ConnectorError(
                f"{self.name} answered the status of another request", permanent=False
            )
        return parsed

    # -- identities --------------------------------------------------------------
    def identities(
        self, identity: Identity, discovery: Mapping[str, Any]
    ) -> list[dict[str, str]]:
        """Each identifier we hold that the processor takes, in the format
        it lists (raw first, else hashed)."""
        listed: dict[str, set[str]] = {}
        for pair in discovery.get("supported_identities") or []:
            if isinstance(pair, Mapping):
                kind, form = pair.get("identity_type"), pair.get("identity_format")
                if isinstance(kind, str) and isinstance(form, str):
                    listed.setdefault(kind, set()).add(form)
        held: list[tuple[str, str]] = [
            ("email", protocol.email_normalise(e)) for e in identity.emails
        ]
        for kind in protocol.IDENTITY_TYPES:
            held += [(kind, value) for value in identity.customer_ids.get(kind, ())]
        sent: list[dict[str, str]] = []
        for kind, value in held:
            form = next((f for f in HASH_PREFERENCE if f in listed.get(kind, ())), None)
            if form is None:
                continue
            sent.append(
                {
                    "identity_type": kind,
                    "identity_value": protocol.identity_hash(value, form),
                    "identity_format": form,
                }
            )
        if not sent:
            raise ConnectorError(
                f"{self.name} takes none of the identifiers we hold for this "
                f"subject (it lists {', '.join(sorted(listed)) or 'none'})",
                permanent=True,
            )
        return sent

    # -- discovery, certificate, signatures ------------------------------------
    def discovery(self) -> dict[str, Any]:
        code, _, answer = self._call("GET", "/discovery")
        if code != 200:
            raise self._refusal(code, answer)
        try:
            document = json.loads(answer)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise ConnectorError(
                f"{self.name}'s discovery is not a JSON object", permanent=False
            )
        return document

    def certificate(self) -> x509.Certificate:
        """The processor's signing certificate: pinned, or from discovery
        (cached an hour), checked for its domain and dates."""
        domain = self.config["processor_domain"]
        pem = self.config.get("certificate") or self._fetched_certificate()
        try:
            certificate = protocol.certificate_load(pem)
        except ValueError:
            raise ConnectorError(
                f"{self.name}'s certificate is not PEM", permanent=True
            ) from None
        problem = certificate_problem(certificate, domain)
        if problem:
            raise ConnectorError(f"{self.name}: {problem}", permanent=True)
        return certificate

    def _fetched_certificate(self) -> str:
        url = self.discovery().get("processor_certificate")
        if not isinstance(url, str):
            raise ConnectorError(
                f"{self.name}'s discovery names no processor_certificate",
                permanent=True,
            )
        key = "opendsr-cert:" + hashlib.sha256(url.encode()).hexdigest()
        cached = cache.get(key)
        if isinstance(cached, str):
            return cached
        try:
            _clean_url(url, "processor_certificate")
        except ConfigError as error:
            raise ConnectorError(
                f"{self.name}'s processor_certificate {error.message}", permanent=True
            ) from None
        code, _, answer = self._fetch(urllib.request.Request(url, method="GET"))
        if code != 200:
            raise ConnectorError(
                f"{self.name}'s certificate answered HTTP {code}", permanent=False
            )
        pem = answer.decode("ascii", errors="replace")
        cache.set(key, pem, CERTIFICATE_CACHE_SECONDS)
        return pem

    def _verified(self, headers: Mapping[str, str], body: bytes) -> bytes:
        """The raw body once its signature and domain check out."""
        domain = protocol.header_get(
            headers, protocol.DOMAIN_HEADER, protocol.LEGACY_DOMAIN_HEADER
        )
        if domain.lower() != self.config["processor_domain"]:
            raise ConnectorError(
                f"{self.name} answered for another domain", permanent=True
            )
        signature = protocol.header_get(
            headers, protocol.SIGNATURE_HEADER, protocol.LEGACY_SIGNATURE_HEADER
        )
        try:
            protocol.signature_verify(self.certificate(), body, signature)
        except protocol.SignatureInvalid as error:
            raise ConnectorError(
                f"{self.name}'s answer is not signed by its certificate: {error}",
                permanent=True,
            ) from None
        return body

    def callback_verify(
        self, *, headers: Mapping[str, str], body: bytes, own_url: str
    ) -> ProcessorStatus:
        """A callback checked as security_guidelines.md says: the domain on
        our allow-list (this connector's), the certificate usable, the
        signature over the raw body before parsing, then the JSON and that
        it was meant for `own_url`."""
        domain = protocol.header_get(
            headers, protocol.DOMAIN_HEADER, protocol.LEGACY_DOMAIN_HEADER
        )
        if domain.lower() != self.config["processor_domain"]:
            raise CallbackRefused("the processor domain is not allowed", status=401)
        try:
            certificate = self.certificate()
        except ConnectorError as error:
            raise CallbackRefused(error.message, status=401) from None
        signature = protocol.header_get(
            headers, protocol.SIGNATURE_HEADER, protocol.LEGACY_SIGNATURE_HEADER
        )
        try:
            protocol.signature_verify(certificate, body, signature)
        except protocol.SignatureInvalid as error:
            raise CallbackRefused(str(error), status=400) from None
        try:
            status = status_parse(body)
        except ConnectorError as error:
            raise CallbackRefused(error.message, status=400) from None
        if status.status_callback_url != own_url:
            raise CallbackRefused("status_callback_url is not this URL", status=400)
        return status

    # -- HTTP ----------------------------------------------------------------------
    def _call(
        self, method: str, path: str, body: bytes | None = None
    ) -> tuple[int, Mapping[str, str], bytes]:
        headers = {"Accept": "application/json", "User-Agent": "PrivacyDesk-OpenDSR/1"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        token = self.secrets.get("token", "")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.config["base_url"] + path, data=body, headers=headers, method=method
        )
        return self._fetch(request)

    def _fetch(
        self, request: urllib.request.Request
    ) -> tuple[int, Mapping[str, str], bytes]:
        """Status, headers (case-insensitive) and body of one call."""
        timeout = self.config.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
        try:
            with _opener.open(request, timeout=timeout) as response:
                headers: Mapping[str, str] = response.headers
                return response.status, headers, response.read(MAX_ANSWER_BYTES)
        except urllib.error.HTTPError as error:
            try:
                # a Message reads like a case-insensitive mapping
                failed: Mapping[str, str] = error.headers  # type: ignore[assignment]
                return error.code, failed, error.read(MAX_ANSWER_BYTES)
            finally:
                error.close()
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            reason = getattr(error, "reason", None) or type(error).__name__
            raise ConnectorError(
                f"OpenDSR processor {self.name} unreachable: {reason}",
                permanent=False,
            ) from None

    def _refusal(self, status: int, answer: bytes) -> ConnectorError:
        """A non-success answer: 4xx (but 408/429) is permanent, with the
        processor's own message (§7.6: it holds no identity data)."""
        message = _error_message(answer)
        said = f"{self.name} answered HTTP {status}" + (
            f": {message}" if message else ""
        )
        if 300 <= status < 400:
            return ConnectorError(
                said + " (redirects are not followed)", permanent=True
            )
        permanent = 400 <= status < 500 and status not in (408, 425, 429)
        return ConnectorError(said, permanent=permanent)


def erasure_receipt(request_id: str, note: str) -> ErasureReceipt:
    return ErasureReceipt(kind="opendsr", known={RECEIPT_KEY: (request_id,)}, note=note)


def status_parse(body: bytes) -> ProcessorStatus:
    """A status or callback body (§8.3, §8.6), checked field by field."""
    try:
        document = json.loads(body)
    except ValueError:
        raise ConnectorError("the status is not JSON", permanent=False) from None
    if not isinstance(document, dict):
        raise ConnectorError("the status is not a JSON object", permanent=False)
    status = document.get("request_status")
    request_id = document.get("subject_request_id")
    if status not in protocol.STATUSES or not isinstance(request_id, str):
        raise ConnectorError(
            "the status lacks request_status or subject_request_id", permanent=False
        )
    count = document.get("results_count")
    url = document.get("results_url")
    return ProcessorStatus(
        subject_request_id=request_id,
        request_status=status,
        expected_completion_time=str(document.get("expected_completion_time") or ""),
        results_url=url if isinstance(url, str) else "",
        results_count=count if isinstance(count, int) and count >= 0 else None,
        status_callback_url=str(document.get("status_callback_url") or ""),
    )


def certificate_problem(certificate: x509.Certificate, domain: str) -> str:
    """Why a certificate cannot sign for `domain` now ("" when it can)."""
    now = datetime.now(UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        return "the certificate is not valid today"
    try:
        names = certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        ).value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    if domain not in [name.lower() for name in names]:
        return f"the certificate is not issued for {domain} (its SAN)"
    return ""


def _moment(value: Any) -> datetime | None:
    moment = parse_datetime(value) if isinstance(value, str) else None
    return moment if moment is not None and not timezone.is_naive(moment) else None


def _error_message(answer: bytes) -> str:
    try:
        document = json.loads(answer)
    except ValueError:
        return ""
    error = document.get("error") if isinstance(document, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return message[:300] if isinstance(message, str) else ""


def _clean_url(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("a URL is required", field=field)
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError("must be an absolute https:// URL", field=field)
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ConfigError(
            "must use https (plain http only to this machine)", field=field
        )
    if parts.username or parts.password or parts.fragment or parts.query:
        raise ConfigError("must hold no credentials, query or #fragment", field=field)
    return url


def _clean_timeout(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError("must be a number of seconds", field="config.timeout_seconds")
    if not 1 <= value <= MAX_TIMEOUT_SECONDS:
        raise ConfigError(
            f"must be between 1 and {MAX_TIMEOUT_SECONDS} seconds",
            field="config.timeout_seconds",
        )
    return value
