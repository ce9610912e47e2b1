"""The org a Salesforce stand-in holds: Contacts, their Cases, each Case's
EmailMessages and CaseComments (seeded from the demo generator: names,
e-mails, phones, order numbers inside free text), the Recycle Bin (a
DELETE by id marks a row IsDeleted: only queryAll shows it) and Bulk API
2.0 ingest jobs that hard-delete after a delay (or fail, for a user
without the Bulk API Hard Delete permission)."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from connectors.demo.content import (
    AGENT_REPLIES,
    CUSTOMER_OPENERS,
    FOLLOW_UPS,
    fill_template,
)
from connectors.demo.content import customer as demo_customer
from standins.holdings import Holdings

# Key prefixes of the objects' ids, as an org shows them.
# the stand-in's external client app (its consumer key)
CLIENT_ID = "3MVG9sfStandInApp.pd0123456789"
PREFIX = {
    "Contact": "003",
    "Case": "500",
    "EmailMessage": "02s",
    "CaseComment": "00a",
    "Job": "750",
}
# The parent field and parent object of each child object.
PARENT = {"Case": "ContactId", "EmailMessage": "ParentId", "CaseComment": "ParentId"}
WRITABLE = {
    "Contact": ("FirstName", "LastName", "Email", "Phone", "MobilePhone", "Title")
}
STAMP = "2025-03-01T09:00:00.000+0000"
# Assumed wording (the permission's name is Salesforce's): a job created
# by a user without it fails.
NO_HARD_DELETE = (
    "FEATURENOTENABLED: hardDelete requires the Bulk API Hard Delete "
    "permission for the running user"
)


def sf_id(kind: str, number: int) -> str:
    """An 18-character id with the object's key prefix."""
    return f"{PREFIX[kind]}Hs0000{number:06d}AAA"


def contact_id(customer: int) -> str:
    return sf_id("Contact", customer)


@dataclass
class Org(Holdings):
    """Everything the stand-in holds; every method takes the lock."""

    rows: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    recycle_bin: set[str] = field(default_factory=set)
    hard_deleted: set[str] = field(default_factory=set)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    # query locators: the rows a query has still to page out
    cursors: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    hard_delete_permission: bool = True
    job_seconds: float = 0.3  # a closed job's run time before JobComplete
    _next_id: int = 0

    @classmethod
    def seeded(
        cls, customers: int = 10, *, cases_each: int = 2, seed: int = 2026
    ) -> Org:
        org = cls()
        org.rows = {kind: {} for kind in PARENT | {"Contact": ""}}
        rng = random.Random(seed)
        for number in range(1, customers + 1):
            person = demo_customer(number, seed=seed)
            first, _, last = person.name.partition(" ")
            cid = contact_id(number)
            org.rows["Contact"][cid] = {
                "Id": cid,
                "FirstName": first,
                "LastName": last,
                "Email": person.email,
                # odd customers gave a phone, even ones a mobile
                "Phone": person.phone if number % 2 else None,
                "MobilePhone": None if number % 2 else person.phone,
                "Title": None,
                "CreatedDate": STAMP,
            }
            for _ in range(cases_each):
                case = org._add(
                    "Case",
                    {
                        "CaseNumber": f"{org._next_id + 1:08d}",
                        "Subject": "Order question",
                        "Description": fill_template(
                            rng, rng.choice(CUSTOMER_OPENERS), person
                        ),
                        "Status": "Closed",
                        "Origin": "Email",
                        "ContactId": cid,
                        "SuppliedEmail": person.email,
                        "SuppliedName": person.name,
                        "SuppliedPhone": None,
                        "CreatedDate": STAMP,
                    },
                )
                for incoming, lines in ((True, FOLLOW_UPS), (False, AGENT_REPLIES)):
                    org._add(
                        "EmailMessage",
                        {
                            "ParentId": case,
                            "Subject": "Re: Order question",
                            "FromAddress": person.email
                            if incoming
                            else "support@example.com",
                            "FromName": person.name if incoming else "Support",
                            "ToAddress": "support@example.com"
                            if incoming
                            else person.email,
                            "TextBody": fill_template(rng, rng.choice(lines), person),
                            "Incoming": incoming,
                            "MessageDate": STAMP,
                        },
                    )
                org._add(
                    "CaseComment",
                    {
                        "ParentId": case,
                        "CommentBody": f"Called {person.name} back on {person.phone}.",
                        "IsPublished": False,
                        "CreatedDate": STAMP,
                    },
                )
        return org

    def _add(self, kind: str, values: dict[str, Any]) -> str:
        rid = sf_id(kind, self._new_id())
        self.rows[kind][rid] = {"Id": rid, **values}
        return rid

    # -- reads ----------------------------------------------------------------
    def select(
        self, kind: str, field_name: str, values: list[str], *, all_rows: bool
    ) -> list[dict[str, Any]]:
        """Rows of `kind` whose field equals one of `values` (text compared
        without case, as SOQL does); rows in the Recycle Bin only for
        queryAll, with IsDeleted true."""
        wanted = {value.lower() for value in values}
        with self.lock:
            self._run_due()
            found = []
            for rid, row in self.rows.get(kind, {}).items():
                if rid in self.recycle_bin and not all_rows:
                    continue
                held = row.get(field_name)
                if isinstance(held, str) and held.lower() in wanted:
                    found.append({**row, "IsDeleted": rid in self.recycle_bin})
            return found

    def children(self, kind: str, parent: str) -> list[str]:
        with self.lock:
            return [
                rid
                for rid, row in self.rows.get(kind, {}).items()
                if row.get(PARENT[kind]) == parent
            ]

    def kind_of(self, rid: str) -> str | None:
        with self.lock:
            return next((k for k, rows in self.rows.items() if rid in rows), None)

    # -- writes ---------------------------------------------------------------
    def update(self, kind: str, rid: str, changes: dict[str, Any]) -> str | None:
        """Write fields; None, or Salesforce's error code."""
        with self.lock:
            if rid not in self.rows.get(kind, {}) or rid in self.recycle_bin:
                return "NOT_FOUND"
            if any(name not in WRITABLE.get(kind, ()) for name in changes):
                return "INVALID_FIELD_FOR_INSERT_UPDATE"
            self.rows[kind][rid].update(changes)
            return None

    def soft_delete(self, kind: str, rid: str) -> bool:
        """DELETE by id: into the Recycle Bin with its children (15 days)."""
        with self.lock:
            if rid not in self.rows.get(kind, {}) or rid in self.recycle_bin:
                return False
            self.recycle_bin.add(rid)
            for child, link in PARENT.items():
                if link and self.rows.get(child):
                    for cid in self.children(child, rid):
                        self.soft_delete(child, cid)
            return True

    def hard_delete(self, kind: str, rid: str) -> str | None:
        """Gone for good (Recycle Bin bypassed), with its children; None,
        or the error code the job's failed results give."""
        with self.lock:
            if rid not in self.rows.get(kind, {}):
                return "ENTITY_IS_DELETED" if rid in self.hard_deleted else "INVALID_ID"
            if kind == "Contact" and self.children("Case", rid):
                # the job deletes a contact's cases first (assumed refusal
                # otherwise, so the order is tested)
                return "DELETE_FAILED"
            for child in ("EmailMessage", "CaseComment"):
                if kind == "Case":
                    for cid in self.children(child, rid):
                        self.hard_delete(child, cid)
            del self.rows[kind][rid]
            self.recycle_bin.discard(rid)
            self.hard_deleted.add(rid)
            return None

    # -- Bulk API 2.0 ingest jobs ---------------------------------------------
    def job_create(self, kind: str, operation: str) -> dict[str, Any]:
        with self.lock:
            jid = sf_id("Job", self._new_id())
            self.jobs[jid] = {
                "id": jid,
                "object": kind,
                "operation": operation,
                "state": "Open",
                "contentType": "CSV",
                "lineEnding": "LF",
                "columnDelimiter": "COMMA",
                "apiVersion": 62.0,
                "ids": [],
                "ready_at": None,
                "failures": [],
            }
            return self.job_info(jid) or {}

    def job_upload(self, jid: str, ids: list[str]) -> bool:
        with self.lock:
            job = self.jobs.get(jid)
            if job is None or job["state"] != "Open":
                return False
            job["ids"].extend(ids)
            return True

    def job_close(self, jid: str) -> bool:
        with self.lock:
            job = self.jobs.get(jid)
            if job is None or job["state"] != "Open":
                return False
            job["state"] = "UploadComplete"
            job["ready_at"] = time.time() + self.job_seconds
            return True

    def job_info(self, jid: str) -> dict[str, Any] | None:
        """The job as GET /jobs/ingest/{id} shows it; a closed job whose
        time has come is run first (hardDelete: Recycle Bin bypassed)."""
        with self.lock:
            job = self.jobs.get(jid)
            if job is None:
                return None
            if job["state"] == "UploadComplete" and time.time() >= job["ready_at"]:
                self._job_run(job)
            shown = {k: v for k, v in job.items() if k not in ("ids", "ready_at")}
            shown.pop("failures")
            done = job["state"] in ("JobComplete", "Failed")
            shown["numberRecordsProcessed"] = len(job["ids"]) if done else 0
            shown["numberRecordsFailed"] = len(job["failures"])
            return shown

    def _run_due(self) -> None:
        """Jobs whose run time has come are run (the org works on its own)."""
        for job in list(self.jobs.values()):
            if job["state"] == "UploadComplete" and time.time() >= job["ready_at"]:
                self._job_run(job)

    def _job_run(self, job: dict[str, Any]) -> None:
        if job["operation"] == "hardDelete" and not self.hard_delete_permission:
            job["state"] = "Failed"
            job["errorMessage"] = NO_HARD_DELETE
            return
        for rid in job["ids"]:
            if job["operation"] == "hardDelete":
                error = self.hard_delete(job["object"], rid)
            else:
                error = None if self.soft_delete(job["object"], rid) else "INVALID_ID"
            if error:
                job["failures"].append((rid, error))
        job["state"] = "JobComplete"

    def job_failures(self, jid: str) -> list[tuple[str, str]] | None:
        with self.lock:
            job = self.jobs.get(jid)
            return None if job is None else list(job["failures"])

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                kind: len([r for r in rows if r not in self.recycle_bin])
                for kind, rows in self.rows.items()
            } | {
                "recycle_bin": len(self.recycle_bin),
                "hard_deleted": sorted(self.hard_deleted),
                "jobs": {jid: job["state"] for jid, job in self.jobs.items()},
            }
