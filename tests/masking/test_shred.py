"""Crypto-shredding: an erasure that starts deletes the customer's vault, so
tokens already in AI logs point at nothing; the evidence pack says how many
entries went."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.actors import actor_system
from audit.models import AuditEvent
from connectors.demo.content import Customer
from dsr.choices import RequestStatus
from dsr.models import LegalHold, Request
from dsr.services.requests import request_close, request_verify
from evidence.services import evidence_pack_generate
from masking.demo import sample_message
from masking.models import VaultEntry
from masking.selectors import vault_shredded_count
from masking.tasks import masking_request_started_task, vault_purge_idle_task
from tests.evidence.pack_helpers import embedded, flat_text, shows
from tests.masking.conftest import consenting, redact, restore

pytestmark = pytest.mark.django_db
SYSTEM = actor_system("tests")


def _erasure_started(
    make_request: Callable[..., Request], person: Customer, capture: Any
) -> Request:
    """An erasure filed and verified through the services; its start runs
    what settings.REQUEST_STARTED_TASKS wires (Celery is eager in tests)."""
    request = make_request(kind="erasure", identity={"email": person.email})
    with capture(execute=True):
        request = request_verify(actor=SYSTEM, request=request, method="staff_checked")
    assert request.status == RequestStatus.IN_PROGRESS
    return request


def test_erasing_the_customer_shreds_the_vault_and_the_pack_counts_it(
    api: APIClient,
    maria: Customer,
    refuser: Customer,
    make_request: Callable[..., Request],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given two reversible conversations of Maria's, and another customer's
    consenting(refuser, True, django_capture_on_commit_callbacks)
    message = f"{sample_message(random.Random(4), maria)} Mail {maria.email}."
    masked = redact(api, maria, message, reversible=True, name=maria.name).json()
    redact(api, maria, maria.phone, reversible=True, conversation_id="conv-2")
    redact(api, refuser, refuser.email, reversible=True)
    maria_entries = VaultEntry.objects.count() - 1  # the refuser's one e-mail
    assert maria_entries == len(masked["tokens"]) + 1
    assert restore(api, maria, masked["text"]).json()["text"] == message

    # when she asks to be erased and the erasure starts
    request = _erasure_started(make_request, maria, django_capture_on_commit_callbacks)

    # then her tokens point at nothing, the other customer's still work
    after = restore(api, maria, masked["text"]).json()
    assert after["text"] == masked["text"]
    assert after["restored"] == 0
    assert after["unknown"] == sum(masked["counts"].values())
    assert VaultEntry.objects.count() == 1
    assert restore(api, refuser, "<EMAIL_1>").json()["text"] == refuser.email
    event = AuditEvent.objects.get(action="masking.vault_shredded")
    assert event.object_id == str(request.public_id)
    assert event.data == {"entries": maria_entries, "held": False}

    # and the closed request's evidence pack says how many entries went
    request = request_close(actor=SYSTEM, request=request, outcome="completed")
    pack = evidence_pack_generate(actor=SYSTEM, request=request)
    content = pack.content
    facts = embedded(content)["facts"]
    assert facts["masking"] == {"vault_entries_deleted": maria_entries}
    assert shows(flat_text(content), f"masking vault: {maria_entries} entries deleted")


def test_other_requests_and_held_subjects_keep_their_vault(
    api: APIClient,
    maria: Customer,
    make_request: Callable[..., Request],
    django_capture_on_commit_callbacks: Any,
) -> None:
    redact(api, maria, maria.email, reversible=True)
    access = make_request(kind="access", identity={"email": maria.email})
    with django_capture_on_commit_callbacks(execute=True):
        request_verify(actor=SYSTEM, request=access, method="staff_checked")
    assert VaultEntry.objects.count() == 1  # an access request shreds nothing

    erasure = make_request(kind="erasure", identity={"email": maria.email})
    LegalHold.objects.create(
        subject=erasure.subject,
        reason="litigation",
        legal_basis="Art. 17(3)(e) GDPR",
        starts_at=timezone.now(),
        placed_by="tests",
        placed_by_label="tests",
    )
    with django_capture_on_commit_callbacks(execute=True):
        request_verify(actor=SYSTEM, request=erasure, method="staff_checked")

    assert VaultEntry.objects.count() == 1
    event = AuditEvent.objects.get(action="masking.vault_shredded")
    assert event.data == {"entries": 0, "held": True}


def test_the_task_run_twice_deletes_once_and_the_pack_sums(
    api: APIClient,
    maria: Customer,
    make_request: Callable[..., Request],
    django_capture_on_commit_callbacks: Any,
) -> None:
    redact(api, maria, f"{maria.email} {maria.phone}", reversible=True)
    request = _erasure_started(make_request, maria, django_capture_on_commit_callbacks)

    masking_request_started_task(request.pk)  # a redelivered message
    masking_request_started_task(0)  # no such request: nothing happens

    counts = [
        e.data["entries"]
        for e in AuditEvent.objects.filter(action="masking.vault_shredded")
    ]
    assert counts == [2, 0]

    assert vault_shredded_count(request=request) == 2


def test_idle_conversations_are_forgotten_in_batches(
    api: APIClient, maria: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given three conversations, two of them idle for longer than the setting
    for conversation in ("old-1", "old-2", "fresh"):
        redact(
            api,
            maria,
            f"{maria.email} {maria.phone}",
            reversible=True,
            conversation_id=conversation,
        )
    VaultEntry.objects.exclude(conversation_id="fresh").update(
        last_used_at=timezone.now() - timedelta(days=31)
    )
    monkeypatch.setattr("masking.shredding.PURGE_BATCH", 3)

    # when the daily task runs (twice: the second finds nothing)
    assert vault_purge_idle_task() == 4
    assert vault_purge_idle_task() == 0

    # then only the fresh conversation is left, each batch audited
    assert set(VaultEntry.objects.values_list("conversation_id", flat=True)) == {
        "fresh"
    }
    purged = AuditEvent.objects.filter(action="masking.vault_purged")
    assert [e.data["entries"] for e in purged] == [3, 1]
