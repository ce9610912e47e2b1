"""`http`: an outbound webhook for systems that do their own work.

Each job is POSTed as signed JSON (connectors.signing). The system answers
at once (200 with a result) or later (202, then a signed callback to
`callback_url`, handled by dsr.services.agent_jobs). A 4xx other than 408/429 says
the job itself is wrong, so it fails for good; 5xx, timeouts and refused
connections are retried by the executor. Consent withdrawals go out through
`deliver` too (consent.propagation), with their callbacks handled by
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
from typing import Any, ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse

from connectors.base import (
    ConfigError,
    ConnectorError,
    ConnectorKind,
    Deferred,
    Job,
    Outcome,
    RecordSink,
)
from connectors.choices import Action
from connectors.signing import signature_headers
from connectors.wire import (
    MAX_RESULT_BYTES,
    ReportedResult,
    job_payload,
    result_parse,
)
from privacydesk.errors import ValidationFailed

ALL_ACTIONS = frozenset(Action.values)
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
DEFAULT_TIMEOUT_SECONDS = 10
MAX_TIMEOUT_SECONDS = 120
MIN_KEY_LENGTH = 16
# Asking again can help: the other side timed out or asked us to slow down.
RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})


def clean_actions(config: dict[str, Any]) -> list[str] | None:
    """The optional `actions` list shared by kinds whose remote side chooses
    what it supports; None means every action."""
    if "actions" not in config:
        return None
    actions = config["actions"]
    if not isinstance(actions, list) or not actions:
        raise ConfigError("must be a non-empty list", field="config.actions")
    for index, action in enumerate(actions):
        if action not in ALL_ACTIONS:
            raise ConfigError(
                f"must be one of {', '.join(sorted(ALL_ACTIONS))}",
                field=f"config.actions[{index}]",
            )
    return sorted(set(actions))


def configured_actions(config: Any) -> frozenset[str]:
    """The actions an instance offers; lenient, since the planner asks every
    connector and one stored bad config must not stop the rest."""
    listed = config.get("actions") if isinstance(config, dict) else None
    if not isinstance(listed, list):
        return ALL_ACTIONS
    return frozenset(a for a in listed if a in ALL_ACTIONS)


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
    actions: ClassVar[frozenset[str]] = ALL_ACTIONS
    secret_fields = ("signing_key",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The remote side says what it can do, so this is per instance.
        self.actions = configured_actions(self.config)  # type: ignore[misc]

    # -- configuration ------------------------------------------------------
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

    def health(self) -> str:
        # The webhook is only ever sent jobs: probing it would be a fake job.
        self._url()
        self._key()
        return "configured; the webhook is contacted with jobs only"

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
        if not answer.done:
            raise ConnectorError(
                f"webhook of {self.name} reports failure: {answer.error[:300]}",
                permanent=not answer.retryable,
            )
        for record in answer.records:
            sink.write(record)
        return answer.outcome

    def deliver(
        self, document: Mapping[str, Any], *, task_id: str, action: str
    ) -> ReportedResult | Deferred:
        """POST one signed job document (connectors.wire) to the webhook.

        Returns Deferred on 202, else the parsed result, done or failed. A
        refusal, a transport error or an unreadable answer raises
        ConnectorError saying whether a retry can help. Consent withdrawals
        are sent through here too (consent.propagation)."""
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
        return self._result(answer, task_id=task_id, action=action)

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
                f"webhook of {self.name} unreachable: {reason}", permanent=False
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
            where = getattr(error, "field", None)
            detail = f"{where}: {error.message}" if where else "not a JSON result"
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


def _status_error(name: str, status: int) -> ConnectorError:
    if 300 <= status < 400:
        return ConnectorError(
            f"webhook of {name} answered {status}: redirects are not followed; "
            "configure the final url",
            permanent=True,
        )
    if 400 <= status < 500 and status not in RETRYABLE_CLIENT_ERRORS:
        return ConnectorError(
            f"webhook of {name} refused the job with HTTP {status}", permanent=True
        )
    return ConnectorError(f"webhook of {name} answered HTTP {status}", permanent=False)


def _reference(answer: bytes) -> str:
    """A 202 may name the job on the other side; anything else is ignored."""
    try:
        document = json.loads(answer) if answer else None
    except ValueError:
        return ""
    if isinstance(document, dict) and isinstance(document.get("reference"), str):
        return document["reference"][:200]
    return ""


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
