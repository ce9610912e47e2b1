"""The built-in policy: Privacy Desk forgets the plaintext identifiers of
requests closed long ago, in the rows and in their history, and keeps the
evidence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.actors import actor_system
from audit.models import AuditEvent
from connectors.base import ErasureReceipt
from connectors.models import Connector
from consent.seed import seed_purposes
from consent.services.events import consent_set
from dsr.models import Request, RequestNote, RequestTask, VerificationChallenge
from dsr.services.requests import request_add_note, request_reject
from dsr.services.verification import verification_code_send
from retention.choices import RunStatus
from retention.models import MinimisedRequest
from retention.services.holds import hold_subject_for_identity, legal_hold_place
from retention.services.minimise import TOMBSTONE
from retention.services.policies import retention_builtin_ensure
from retention.services.runs import purge_run_start
from subjects.models import SubjectIdentifier

pytestmark = pytest.mark.django_db
SYSTEM = actor_system("tests")


@pytest.fixture
def closed_request(
    make_request: Callable[..., Request], time_machine: Any
) -> Callable[..., Request]:
    """closed_request(email, days_ago=400, regime="gdpr"): a request made,
    noted, challenged and rejected `days_ago` days before now."""

    def make(email: str, *, days_ago: int = 400, regime: str = "gdpr") -> Request:
        now = timezone.now()
        time_machine.move_to(now - timedelta(days=days_ago), tick=False)
        request = make_request(
            identity={"email": email},
            regime=regime,
            details=f"I am {email}; my order ORD-123456 never came.",
        )
        request_add_note(
            actor=SYSTEM, request=request, text=f"Called back, spoke to {email}."
        )
        verification_code_send(request=request)
        connector, _ = Connector.objects.get_or_create(
            name="manual-billing", kind="manual", defaults={"config": {}}
        )
        result = default_storage.save(
            f"dsr/{request.public_id}/access.jsonl",
            ContentFile(f'{{"email": "{email}"}}\n'.encode()),
        )
        RequestTask.objects.create(
            request=request,
            connector=connector,
            action="access",
            result_file=result,
            result_digest="0" * 64,
        )
        request = request_reject(
            actor=SYSTEM, request=request, reason="the requester did not verify"
        )
        time_machine.move_to(now, tick=False)
        return request

    return make


def _history(request: Request) -> list[Any]:
    return list(Request.history.model.objects.filter(id=request.pk))


def test_an_old_closed_request_keeps_its_evidence_but_not_the_subjects_identifiers(
    closed_request: Callable[..., Request], django_capture_on_commit_callbacks: Any
) -> None:
    # given
    request = closed_request("ada@example.com")
    task = request.tasks.get()
    erased = RequestTask.objects.create(
        request=request,
        connector=task.connector,
        action="erase",
        erasure_receipt=ErasureReceipt(kind="sql", known={"names": ("Ada",)}).to_json(),
    )
    evidence = {
        field: getattr(request, field)
        for field in ("reference", "kind", "regime", "status", "received_at")
        + ("due_on", "closed_at", "status_reason", "subject_id")
    }
    assert len(_history(request)) >= 2
    assert all(h.identity == {"email": "ada@example.com"} for h in _history(request))

    # when
    with django_capture_on_commit_callbacks(execute=True):
        run = purge_run_start(actor=SYSTEM, policy=retention_builtin_ensure())

    # then the row and every history row lost the identity, details, corrections
    request.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert (request.identity, request.details, request.corrections) == (
        TOMBSTONE,
        "",
        None,
    )
    for old in _history(request):
        assert (old.identity, old.details, old.corrections) == (TOMBSTONE, "", None)
    # notes, challenges, stored access results and identifiers are gone
    assert RequestNote.objects.get(request=request).text.startswith("[removed")
    assert not VerificationChallenge.objects.filter(request=request).exists()
    task.refresh_from_db()
    assert task.result_file == ""
    assert task.result_digest == "0" * 64
    erased.refresh_from_db()
    assert erased.erasure_receipt is None
    assert run.tables["dsr_requesttask.erasure_receipt"]["changed"] == 1
    assert not default_storage.exists(f"dsr/{request.public_id}/access.jsonl")
    assert not SubjectIdentifier.objects.filter(subject=request.subject).exists()
    assert not SubjectIdentifier.history.model.objects.filter(
        subject_id=request.subject_id
    ).exists()
    # the evidence stays, with a pseudonymous subject reference
    assert {field: getattr(request, field) for field in evidence} == evidence
    assert request.subject.pseudonym.startswith("SUBJ-")
    assert AuditEvent.objects.filter(
        action="request.minimised", object_id=str(request.public_id)
    ).exists()
    assert run.tables["dsr_request"]["changed"] == 1
    assert run.tables["dsr_historicalrequest"]["changed"] == len(_history(request))


def test_a_dry_run_counts_the_same_and_changes_nothing_and_a_rerun_finds_nothing(
    closed_request: Callable[..., Request],
) -> None:
    # given
    requests = [closed_request(f"person{n}@example.com") for n in range(3)]
    policy = retention_builtin_ensure()

    # when
    dry = purge_run_start(actor=SYSTEM, policy=policy, dry_run=True)

    # then
    for request in requests:
        request.refresh_from_db()
        assert request.identity != TOMBSTONE
    assert SubjectIdentifier.objects.count() == 3

    # when
    real = purge_run_start(actor=SYSTEM, policy=policy)
    again = purge_run_start(actor=SYSTEM, policy=policy)

    # then
    assert real.tables == dry.tables
    assert real.tables["dsr_request"]["changed"] == 3
    assert again.totals()["changed"] == 0
    assert MinimisedRequest.objects.count() == 3


def test_recent_requests_held_subjects_and_young_ccpa_requests_are_left_alone(
    closed_request: Callable[..., Request],
) -> None:
    # given
    recent = closed_request("recent@example.com", days_ago=30)
    held = closed_request("held@example.com")
    ccpa_young = closed_request("young@example.com", days_ago=400, regime="ccpa")
    ccpa_old = closed_request("old@example.com", days_ago=800, regime="ccpa")
    legal_hold_place(
        actor=SYSTEM,
        scope="subject",
        subject=hold_subject_for_identity(
            actor=SYSTEM, identity={"email": "held@example.com"}
        ),
        reason="the complaint is before the regulator",
        legal_basis="GDPR 17(3)(e)",
    )

    # when
    run = purge_run_start(actor=SYSTEM, policy=retention_builtin_ensure())

    # then
    for request in (recent, held, ccpa_young):
        request.refresh_from_db()
        assert request.identity != TOMBSTONE
        assert SubjectIdentifier.objects.filter(subject=request.subject).exists()
    ccpa_old.refresh_from_db()
    assert ccpa_old.identity == TOMBSTONE
    assert run.tables["dsr_request"] == {
        "examined": 2,
        "changed": 1,
        "skipped_held": 1,
    }
    assert run.holds[0]["subject"] == held.subject.pseudonym


def test_identifiers_stay_while_an_open_request_or_a_consent_needs_them(
    closed_request: Callable[..., Request], make_request: Callable[..., Request]
) -> None:
    # given one subject with a newer open request, one with a consent event
    returning = closed_request("returning@example.com")
    make_request(identity={"email": "returning@example.com"})
    consenting = closed_request("consenting@example.com")
    seed_purposes()
    consent_set(
        actor=SYSTEM,
        subject=consenting.subject,
        purpose="marketing_email",
        granted=True,
        channel="api",
    )

    # when
    purge_run_start(actor=SYSTEM, policy=retention_builtin_ensure())

    # then both old requests are minimised, and both subjects keep identifiers
    for request in (returning, consenting):
        request.refresh_from_db()
        assert request.identity == TOMBSTONE
        assert SubjectIdentifier.objects.filter(subject=request.subject).exists()
