"""`http`: an outbound webhook for systems that do their own work.

Each job is POSTed as signed JSON (connectors.signing). The system answers
at once (200 with a result) or later (202, then a signed callback to
`callback_url`, handled by dsr.services.agent_jobs). A 4xx other than 408/429 says
the job itself is wrong, so it fails for good; 5xx, timeouts and refused
connections are retried by the executor. Consent withdrawals go out through
`deliver` too (`withdraw_consent`), with their callbacks handled by
consent.services.jobs.

Config: `{"url": "https://...", "timeout_seconds": 10, "actions": [...]}`;
secret: `signing_key`.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse

from connectors.base import (
    JSON_SCHEMA_DIALECT,
    ConfigError,
    ConnectorError,
    ConnectorKind,
    Deferred,
    HealthReport,
    Job,
    Outcome,
    RecordSink,
    WithdrawalJob,
)
from connectors.errors import (
    REASON_AUTH,
    REASON_NETWORK,
    REASON_NOT_FOUND,
    REASON_PERMISSION,
    REASON_RATE_LIMIT,
    REASON_REFUSED,
    REASON_SERVER,
)
from connectors.kinds.remote import (
    ACTIONS_SCHEMA,
    ALL_ACTIONS,
    actions_from_config,
    clean_actions,
)
from connectors.signing import signature_headers
from connectors.wire import (
    CONSENT_WITHDRAWN,
    MAX_RESULT_BYTES,
    ReportedResult,
    job_payload,
    result_parse,
    withdrawal_payload,
)
from privacydesk.errors import ValidationFailed

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
DEFAULT_TIMEOUT_SECONDS = 10
MAX_TIMEOUT_SECONDS = 120
MIN_KEY_LENGTH = 16
# Asking again can help: the other side timed out or asked us to slow down.
RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Following a redirect would send the subject's identity somewhere the
    staff never configured."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


class HttpConnector(ConnectorKind):
    """Sends each job to a webhook, signed; the result comes back in the
    response or by callback."""

    kind = "http"
    label = "Outbound webhook"
    actions = ALL_ACTIONS
    secret_fields = ("signing_key",)
    withdraws_consent = True

    def configured_actions(self) -> frozenset[str]:
        # The remote side says what it can do, so this is per instance.
        return actions_from_config(self.config)

    # -- configuration ------------------------------------------------------
    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        return {
            "$schema": JSON_SCHEMA_DIALECT,
            "title": cls.label,
            "type": "object",
            "properties": {
                "url": {
                    "type": "string",
                    "format": "uri",
                    "description": "https:// (plain http only to this machine)",
                    "pattern": "^https?://",
                },
                "timeout_seconds": {
                    "type": "number",
                    "minimum": 1,
                    "maximum": MAX_TIMEOUT_SECONDS,
                    "default": DEFAULT_TIMEOUT_SECONDS,
                },
                "actions": ACTIONS_SCHEMA,
            },
            "required": ["url"],
            "additionalProperties": False,
        }

    @classmethod
    def validate_config(cls, config: Any) -> dict[str, Any]:
        config = super().validate_config(config)
        unknown = set(config) - {"url", "timeout_seconds", "actions"}
        if unknown:
            raise ConfigError("unknown field", field=f"config.{sorted(unknown)[0]}")
        cleaned: dict[str, Any] = {
            "url": _clean_url(config.get("url")),
            "timeout_seconds": _clean_timeout(
                config.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
            ),
        }
        actions = clean_actions(config)
        if actions is not None:
            cleaned["actions"] = actions
        return cleaned

    @classmethod
    def validate_secrets(cls, secrets: Any) -> dict[str, str]:
        cleaned = super().validate_secrets(secrets)
        key = cleaned.get("signing_key", "")
        if len(key) < MIN_KEY_LENGTH:
            raise ConfigError(
                f"a signing key of at least {MIN_KEY_LENGTH} characters is required",
                field="secrets.signing_key",
            )
        return cleaned

    def health(self) -> HealthReport:
        # The webhook is only ever sent jobs: probing it would be a fake job.
        self._url()
        self._key()
        return HealthReport("configured; the webhook is contacted with jobs only")

    # -- the job ------------------------------------------------------------
    def run(self, job: Job, sink: RecordSink) -> Outcome | Deferred:
        if job.action not in self.actions:
            raise ConnectorError(
                f"http connector {self.name} does not take {job.action} jobs",
                permanent=True,
            )
        answer = self.deliver(
            job_payload(job, callback_url=callback_url(job.task_id)),
            task_id=job.task_id,
            action=job.action,
        )
        if isinstance(answer, Deferred):
            return answer
        for record in answer.records:
            sink.write(record)
        return answer.outcome

    def withdraw_consent(self, job: WithdrawalJob) -> Outcome | Deferred:
        """Send the withdrawal (connectors.wire's envelope, `"action":
        "consent_withdrawn"`, the link's action as `instructions`), signed
        like request jobs; the result comes in the response, or after a 202
        by a signed callback to `withdrawal_callback_url`."""
        answer = self.deliver(
            withdrawal_payload(job, callback_url=withdrawal_callback_url(job.task_id)),
            task_id=job.task_id,
            action=CONSENT_WITHDRAWN,
        )
        if isinstance(answer, Deferred):
            return answer
        return answer.outcome

    def deliver(
        self, document: Mapping[str, Any], *, task_id: str, action: str
    ) -> ReportedResult | Deferred:
        """POST one signed job document (connectors.wire) to the webhook.

        Returns Deferred on 202, else the parsed result, done. A refusal, a
        transport error, an unreadable answer or a reported failure raises
        ConnectorError saying whether a retry can help."""
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "PrivacyDesk-Webhook/1",
            **signature_headers(key=self._key(), body=body),
        }
        request = urllib.request.Request(
            self._url(), data=body, headers=headers, method="POST"
        )
        status, answer = self._send(request)
        if status == 202:
            return Deferred(
                reference=_reference(answer),
                note=f"{self.name} accepted the job; waiting for its callback",
            )
        result = self._result(answer, task_id=task_id, action=action)
        if not result.done:
            raise ConnectorError(
                f"webhook of {self.name} reports failure: {result.error[:300]}",
                permanent=not result.retryable,
            )
        return result

    def _send(self, request: urllib.request.Request) -> tuple[int, bytes]:
        timeout = self.config.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
        try:
            with _opener.open(request, timeout=timeout) as response:
                return response.status, response.read(MAX_RESULT_BYTES + 1)
        except urllib.error.HTTPError as error:
            error.close()
            raise _status_error(self.name, error.code) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            # Say why, never what was sent: the reason is about the network.
            reason = getattr(error, "reason", None) or type(error).__name__
            raise ConnectorError(
                f"webhook of {self.name} unreachable: {reason}",
                permanent=False,
                reason=REASON_NETWORK,
            ) from None

    def _result(self, answer: bytes, *, task_id: str, action: str) -> ReportedResult:
        if len(answer) > MAX_RESULT_BYTES:
            raise ConnectorError(
                f"webhook of {self.name} answered with more than "
                f"{MAX_RESULT_BYTES} bytes; answer 202 and call back instead",
                permanent=True,
            )
        try:
            return result_parse(json.loads(answer), action=action, task_id=task_id)
        except (ValueError, ValidationFailed) as error:
            detail = (
                f"{error.field}: {error.message}"
                if isinstance(error, ValidationFailed) and error.field
                else "not a JSON result"
            )
            # A garbled answer may be a proxy's error page: worth another try.
            raise ConnectorError(
                f"webhook of {self.name} answered 200 with an invalid result "
                f"({detail})",
                permanent=False,
            ) from None

    def _url(self) -> str:
        url = self.config.get("url")
        if not isinstance(url, str) or not url:
            raise ConnectorError(
                f"http connector {self.name} has no url", permanent=True
            )
        return url

    def _key(self) -> str:
        key = self.secrets.get("signing_key", "")
        if not key:
            raise ConnectorError(
                f"http connector {self.name} has no signing_key", permanent=True
            )
        return key


def callback_url(task_id: str) -> str:
    """Where the webhook reports a deferred result: an id, no personal data."""
    path = reverse("connector-callback", kwargs={"task_id": task_id})
    return f"{settings.SITE_URL}{path}"


def withdrawal_callback_url(propagation_id: str) -> str:
    """Where a webhook reports a deferred withdrawal: an id, no personal data."""
    path = reverse(
        "consent-propagation-callback", kwargs={"propagation_id": propagation_id}
    )
    return f"{settings.SITE_URL}{path}"


def _status_error(name: str, status: int) -> ConnectorError:
    if 300 <= status < 400:
        return ConnectorError(
            f"webhook of {name} answered {status}: redirects are not followed; "
            "configure the final url",
            permanent=True,
            reason=REASON_NOT_FOUND,
        )
    if 400 <= status < 500 and status not in RETRYABLE_CLIENT_ERRORS:
        return ConnectorError(
            f"webhook of {name} refused the job with HTTP {status}",
            permanent=True,
            reason=_STATUS_REASONS.get(status, REASON_REFUSED),
        )
    return ConnectorError(
        f"webhook of {name} answered HTTP {status}",
        permanent=False,
        reason=REASON_RATE_LIMIT if status == 429 else REASON_SERVER,
    )


_STATUS_REASONS = {401: REASON_AUTH, 403: REASON_PERMISSION, 404: REASON_NOT_FOUND}


def _reference(answer: bytes) -> str:
    """A 202 may name the job on the other side; anything else is ignored."""
    try:
        document = json.loads(answer) if answer else None
    except ValueError:
        return ""
    reference = document.get("reference") if isinstance(document, dict) else None
    return reference[:200] if isinstance(reference, str) else ""


def _clean_url(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("a url is required", field="config.url")
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError("must be an absolute https:// url", field="config.url")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        # Jobs carry the subject's identity: only this machine may see them
        # unencrypted.
        raise ConfigError(
            "must use https (plain http only to this machine)", field="config.url"
        )
    if parts.username or parts.password:
        raise ConfigError(
            "must not hold credentials; the signing key authenticates us",
            field="config.url",
        )
    if parts.fragment:
        raise ConfigError("must not have a #fragment", field="config.url")
    return url


def _clean_timeout(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError("must be a number of seconds", field="config.timeout_seconds")
    if not 1 <= value <= MAX_TIMEOUT_SECONDS:
        raise ConfigError(
            f"must be between 1 and {MAX_TIMEOUT_SECONDS} seconds",
            field="config.timeout_seconds",
        )
    return value
