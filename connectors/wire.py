"""The documents Privacy Desk exchanges with systems that do their own work.

A webhook receives the same job document a pull agent lists, and both report
results in the same shape, whether in a webhook's response, a signed
callback or an agent's POST. One parser checks every result, so the three
doors cannot drift apart. Error messages name field paths, never values: a
result carries the subject's data.

Every job shares one envelope: `task_id` (the id to claim and report
against), `action`, `identity` and, for a webhook, `callback_url`. A request
job adds `request_reference` and `changes`; a consent withdrawal
(`action: "consent_withdrawn"`) adds `purpose`, `withdrawn_at` and the
`instructions` staff gave the link.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from connectors.base import (
    AccessRecord,
    Exemption,
    Identity,
    Job,
    Outcome,
    WithdrawalJob,
)
from connectors.choices import Action
from privacydesk.errors import ValidationFailed

# A result is parsed whole; past this size a store should split its work.
MAX_RESULT_BYTES = 50 * 1024 * 1024
MAX_TEXT = 500
MAX_ERROR = 2000
RESULT_KEYS = frozenset(
    {
        "task_id",
        "status",
        "found",
        "changed",
        "records",
        "exemptions",
        "note",
        "error",
        "retryable",
    }
)


# The action of a consent withdrawal's job; requests use connectors.choices.Action.
CONSENT_WITHDRAWN = "consent_withdrawn"


class ResultStatus(models.TextChoices):
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


def identity_payload(identity: Identity) -> dict[str, Any]:
    return {
        "emails": list(identity.emails),
        "phones": list(identity.phones),
        "customer_ids": {
            namespace: list(values)
            for namespace, values in identity.customer_ids.items()
        },
    }


def _envelope(
    *,
    task_id: str,
    action: str,
    identity: Identity,
    callback_url: str,
    **fields: Any,
) -> dict[str, Any]:
    """The keys every job carries. The identity travels here, never in a URL."""
    payload: dict[str, Any] = {"task_id": task_id, "action": action, **fields}
    payload["identity"] = identity_payload(identity)
    if callback_url:
        payload["callback_url"] = callback_url
    return payload


def job_payload(job: Job, *, callback_url: str = "") -> dict[str, Any]:
    """A request's job as JSON."""
    payload = _envelope(
        task_id=job.task_id,
        action=job.action,
        identity=job.identity,
        callback_url=callback_url,
        request_reference=job.request_reference,
        changes=dict(job.changes),
    )
    if job.action == Action.RESTRICT:
        payload["restricted"] = job.restricted
    return payload


def withdrawal_payload(job: WithdrawalJob, *, callback_url: str = "") -> dict[str, Any]:
    """A consent withdrawal's job as JSON, in the same envelope."""
    return _envelope(
        task_id=job.task_id,
        action=CONSENT_WITHDRAWN,
        identity=job.identity,
        callback_url=callback_url,
        purpose=job.purpose,
        withdrawn_at=job.withdrawn_at.isoformat(),
        instructions=dict(job.instructions),
    )


@dataclass
class ReportedResult:
    """A parsed result: `done` with an outcome (and records for access), or
    a failure that says whether trying again can help."""

    done: bool
    outcome: Outcome = field(default_factory=Outcome)
    records: list[AccessRecord] = field(default_factory=list)
    error: str = ""
    retryable: bool = False


def _text(value: Any, path: str, *, required: bool, limit: int = MAX_TEXT) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed("must be a string", field=path)
    text = value.strip()
    if required and not text:
        raise ValidationFailed("must not be empty", field=path)
    if len(text) > limit:
        raise ValidationFailed(f"at most {limit} characters", field=path)
    return text


def _count(value: Any, path: str) -> int:
    # bool is an int in Python; a count of True is a bug on the other side.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationFailed("must be a whole number, 0 or more", field=path)
    return value


def _list(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationFailed("must be a list", field=path)
    return value


def _record(value: Any, path: str) -> AccessRecord:
    if not isinstance(value, Mapping):
        raise ValidationFailed("must be an object", field=path)
    unknown = set(value) - {"location", "key", "data", "category"}
    if unknown:
        raise ValidationFailed("unknown field", field=f"{path}.{sorted(unknown)[0]}")
    key = value.get("key")
    if isinstance(key, int) and not isinstance(key, bool):
        key = str(key)
    data = value.get("data")
    if not isinstance(data, Mapping):
        raise ValidationFailed("must be an object", field=f"{path}.data")
    return AccessRecord(
        location=_text(value.get("location"), f"{path}.location", required=True),
        key=_text(key, f"{path}.key", required=True),
        data=data,
        category=_text(value.get("category"), f"{path}.category", required=False),
    )


def _exemption(value: Any, path: str) -> Exemption:
    if not isinstance(value, Mapping):
        raise ValidationFailed("must be an object", field=path)
    unknown = set(value) - {"location", "fields", "basis", "reason", "count"}
    if unknown:
        raise ValidationFailed("unknown field", field=f"{path}.{sorted(unknown)[0]}")
    fields = tuple(
        _text(name, f"{path}.fields[{index}]", required=True)
        for index, name in enumerate(_list(value.get("fields"), f"{path}.fields"))
    )
    return Exemption(
        location=_text(value.get("location"), f"{path}.location", required=True),
        fields=fields,
        basis=_text(value.get("basis"), f"{path}.basis", required=True),
        reason=_text(value.get("reason"), f"{path}.reason", required=True),
        count=_count(value.get("count", 0), f"{path}.count"),
    )


def result_parse(
    data: Any, *, action: str, task_id: str, require_task_id: bool = False
) -> ReportedResult:
    """Check a reported result against the job it answers.

    `{"status": "done", "found", "changed", "records", "exemptions", "note"}`
    or `{"status": "failed", "error", "retryable"}`; `records` only for
    access, where they are the count (`found`, if sent, must agree);
    `exemptions` never for a consent withdrawal."""
    if not isinstance(data, Mapping):
        raise ValidationFailed("the result must be a JSON object")
    unknown = set(data) - RESULT_KEYS
    if unknown:
        raise ValidationFailed("unknown field", field=sorted(unknown)[0])
    if require_task_id or "task_id" in data:
        if data.get("task_id") != task_id:
            raise ValidationFailed(
                "must be the id of the task this result answers", field="task_id"
            )
    status = data.get("status")
    if status == ResultStatus.FAILED:
        retryable = data.get("retryable", False)
        if not isinstance(retryable, bool):
            raise ValidationFailed("must be true or false", field="retryable")
        return ReportedResult(
            done=False,
            error=_text(data.get("error"), "error", required=True, limit=MAX_ERROR),
            retryable=retryable,
        )
    if status != ResultStatus.DONE:
        raise ValidationFailed('must be "done" or "failed"', field="status")

    raw_records = _list(data.get("records"), "records")
    if raw_records and action != Action.ACCESS:
        raise ValidationFailed("records are only sent for access", field="records")
    records = [
        _record(value, f"records[{index}]") for index, value in enumerate(raw_records)
    ]
    raw_exemptions = _list(data.get("exemptions"), "exemptions")
    if raw_exemptions and action == CONSENT_WITHDRAWN:
        # Nothing records them: a withdrawal is honoured, or it failed.
        raise ValidationFailed(
            "exemptions are not taken for a consent withdrawal", field="exemptions"
        )
    outcome = Outcome(
        exemptions=[
            _exemption(value, f"exemptions[{index}]")
            for index, value in enumerate(raw_exemptions)
        ],
        note=_text(data.get("note"), "note", required=False),
    )
    if action == Action.ACCESS:
        for record in records:
            outcome.add(record.location, found=1)
        if "found" in data and _count(data["found"], "found") != len(records):
            raise ValidationFailed(
                "must equal the number of records sent", field="found"
            )
    else:
        outcome.found = _count(data.get("found", 0), "found")
    outcome.changed = _count(data.get("changed", 0), "changed")
    return ReportedResult(done=True, outcome=outcome, records=records)
