"""The `job` erasure strategy: the vendor deletes in a job of its own
(Salesforce's Bulk API 2.0 hardDelete). The eraser collects the ids found
per record type; then, deepest type first, one job per type is created,
the ids uploaded as a CSV, the upload closed and the job polled for a
bounded time.

A job not finished in its bound: if it was the last, the erasure waits on
the vendor (the connector answers Deferred with the receipt, and the
sweeper's check polls the job and queries the ids again later); if types
above it still wait for it (a person's tickets before the person), the
attempt is retried later (a transient error), and the retry polls the job
it started rather than starting another. A job the vendor fails, or
refuses to create, is a permanent error that says what the API user needs
(the definition's `hint`). Never done before the vendor says JobComplete
and a query of the ids finds none of them.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.cache import cache

from connectors.base import ConnectorError, ErasureReceipt, Outcome
from connectors.kinds.saas.client import Client
from connectors.kinds.saas.definition import Definition
from connectors.kinds.saas.templates import dig, render

DEFAULT_WAIT_SECONDS = 60
FIRST_POLL_SECONDS = 0.25
MAX_POLL_SECONDS = 5.0
IDS_PER_QUERY = 200  # ids in one `gone` query (SOQL statements are bounded)
RUNNING = "jobs.running"  # receipt key: the jobs an erasure left running
RESUME_SECONDS = 30 * 24 * 3600


class Jobs:
    """The deletion jobs of one erasure (or of its verification)."""

    def __init__(
        self,
        client: Client,
        definition: Definition,
        base: Mapping[str, Any],
        *,
        task: str = "",
        wait_seconds: float | None = None,
    ) -> None:
        self.client = client
        self.definition = definition
        self.base = dict(base)
        self.task = task
        self.wait_seconds = wait_seconds
        self.pending: dict[str, list[str]] = {}

    def collect(self, name: str, key: str) -> None:
        ids = self.pending.setdefault(name, [])
        if key not in ids:
            ids.append(key)

    # -- erase ------------------------------------------------------------------
    def run(self, receipt: ErasureReceipt) -> None:
        """One job per record type collected, deepest first."""
        names = [n for n in reversed(self.definition.order) if self.pending.get(n)]
        for index, name in enumerate(names):
            rule = self.definition.record(name)["erase"]
            ids = self.pending[name]
            _remember(receipt, f"ids.{name}", ids)
            job = self._resumed(name, ids) or self._start(name, rule, ids)
            _remember(receipt, f"jobs.{name}", [job])
            info = self._poll(name, rule, job)
            if info is None:
                bound = self._bound(rule)
                if index < len(names) - 1:
                    raise ConnectorError(
                        f"{self.client.name}: the {name} deletion job is still "
                        f"running after {bound:.0f} s and {names[index + 1]} "
                        "records wait for it; retried later",
                        permanent=False,
                    )
                receipt.known[RUNNING] = (*receipt.knows(RUNNING), job)
                return
            self._check_done(name, rule, job, info, total=len(ids))
            failed = _count(dig(info, rule.get("failed_count", "")))
            receipt.add(name, changed=len(ids) - failed)

    def _resumed(self, name: str, ids: list[str]) -> str | None:
        """A job this task started for these ids (a retry polls it)."""
        if not self.task:
            return None
        started = cache.get(self._key(name))
        if isinstance(started, dict) and set(ids) <= set(started.get("ids", ())):
            return str(started["job"])
        return None

    def _start(self, name: str, rule: Mapping[str, Any], ids: list[str]) -> str:
        try:
            created = self.client.send(rule["create"], self.base, method="POST")
        except ConnectorError as error:
            raise self._refused(name, rule, error.message, error.permanent) from None
        job = dig(created.document, rule["job_id"])
        if not isinstance(job, str | int) or isinstance(job, bool):
            raise ConnectorError(
                f"{self.client.name}: the {name} deletion job's answer has no "
                f"{rule['job_id']}",
                permanent=True,
            )
        job = str(job)
        if self.task:
            cache.set(self._key(name), {"job": job, "ids": ids}, RESUME_SECONDS)
        context = {**self.base, "job": job}
        upload = rule["upload"]
        rows = io.StringIO()
        writer = csv.writer(rows, lineterminator="\n")
        writer.writerow([upload["id_header"]])
        writer.writerows([key] for key in ids)
        self.client.call(
            upload.get("method", "PUT"),
            render(upload["path"], context, in_path=True),
            label=upload["path"],
            body=rows.getvalue().encode(),
            content_type=upload["content_type"],
        )
        if "close" in rule:
            self.client.send(rule["close"], context, method="PATCH")
        return job

    def _poll(
        self, name: str, rule: Mapping[str, Any], job: str
    ) -> Mapping[str, Any] | None:
        """The job's info once the vendor says done or failed; None when
        it has not within the bound."""
        deadline = time.monotonic() + self._bound(rule)
        pause = FIRST_POLL_SECONDS
        while True:
            info = self.status(name, rule, job)
            if info.get("_state") in (*rule["done"], *rule["failed"]):
                return info
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.client.sleep(min(pause, left))
            pause = min(pause * 2, MAX_POLL_SECONDS)

    def status(self, name: str, rule: Mapping[str, Any], job: str) -> dict[str, Any]:
        """The job's status document, its state under `_state`."""
        answer = self.client.send(
            rule["status"], {**self.base, "job": job}, method="GET"
        )
        if answer.status == 404 or not isinstance(answer.document, Mapping):
            raise ConnectorError(
                f"{self.client.name}: the {name} deletion job {job} is unknown "
                "to the vendor",
                permanent=True,
            )
        return {**answer.document, "_state": dig(answer.document, rule["state"])}

    def _check_done(
        self,
        name: str,
        rule: Mapping[str, Any],
        job: str,
        info: Mapping[str, Any],
        *,
        total: int | None = None,
    ) -> None:
        """A failed job, or one that could not delete some records, is a
        permanent error naming the vendor's reasons (codes only)."""
        if info.get("_state") in rule["failed"]:
            said = dig(info, rule.get("error", "")) or info.get("_state")
            raise self._refused(name, rule, f"job {job} failed: {said}", True)
        failed = _count(dig(info, rule.get("failed_count", "")))
        if not failed:
            return
        reasons = self._failure_codes(rule, job)
        raise ConnectorError(
            f"{self.client.name}: the {name} deletion job {job} could not delete "
            f"{failed}{f' of {total}' if total else ''} record(s)"
            + (f" ({', '.join(reasons)})" if reasons else ""),
            permanent=True,
        )

    def _failure_codes(self, rule: Mapping[str, Any], job: str) -> list[str]:
        if "failures" not in rule:
            return []
        answer = self.client.send(
            rule["failures"], {**self.base, "job": job}, method="GET", text=True
        )
        if not isinstance(answer.document, str):
            return []
        column = rule.get("error_column", "")
        codes: list[str] = []
        for row in csv.DictReader(io.StringIO(answer.document)):
            # "CODE:message:fields": the code only (a message may quote data)
            code = str(row.get(column) or "").split(":", 1)[0].strip()
            if code and code not in codes:
                codes.append(code)
        return codes[:5]

    def _refused(
        self, name: str, rule: Mapping[str, Any], said: str, permanent: bool
    ) -> ConnectorError:
        hint = f"; {rule['hint']}" if rule.get("hint") else ""
        if said.startswith(f"{self.client.name}: "):
            said = said[len(self.client.name) + 2 :]
        return ConnectorError(
            f"{self.client.name}: the {name} deletion job: {said}{hint}",
            permanent=permanent,
        )

    # -- verify -----------------------------------------------------------------
    def verify(self, receipt: ErasureReceipt, outcome: Outcome) -> None:
        """Each job the erasure started: done (a failed one is an error);
        and a query of every id it was given finds none of them."""
        for name in self.definition.order:
            rule = self.definition.record(name)["erase"]
            if rule["strategy"] != "job":
                continue
            outcome.add(name)  # checked, even when nothing is left
            for job in receipt.knows(f"jobs.{name}"):
                info = self.status(name, rule, job)
                if info.get("_state") not in (*rule["done"], *rule["failed"]):
                    outcome.add(name, found=1)  # still running: not done yet
                    continue
                self._check_done(name, rule, job, info)
            for chunk in _chunks(receipt.knows(f"ids.{name}"), IDS_PER_QUERY):
                answer = self.client.send(
                    rule["gone"], {**self.base, "ids": chunk}, method="GET"
                )
                found = dig(answer.document, rule["gone"].get("select", ""))
                if answer.status != 404 and found:
                    left = len(found) if isinstance(found, list) else 1
                    outcome.add(name, found=left)

    # -- helpers ----------------------------------------------------------------
    def _bound(self, rule: Mapping[str, Any]) -> float:
        if self.wait_seconds is not None:
            return float(self.wait_seconds)
        return float(rule.get("wait_seconds", DEFAULT_WAIT_SECONDS))

    def _key(self, name: str) -> str:
        return f"saas-job:{self.client.name}:{self.task}:{name}"


def _remember(receipt: ErasureReceipt, kind: str, values: Iterable[str]) -> None:
    current = receipt.known.get(kind, ())
    receipt.known[kind] = current + tuple(v for v in values if v not in current)


def _count(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _chunks(values: tuple[str, ...], size: int) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])
