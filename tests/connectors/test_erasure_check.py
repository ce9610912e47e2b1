"""Erasure's verification pass through the executor: stores that answer at
once are checked in the erasing run; the others get a queued pass."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from audit.models import AuditEvent
from connectors.base import ConnectorError, ErasureReceipt, Identity, Outcome
from connectors.choices import Action
from connectors.kinds.sql import SqlConnector
from connectors.models import Connector
from dsr.choices import RequestStatus, TaskStatus
from dsr.models import Request, RequestTask
from tests.connectors.conftest import SUBJECT, Helpdesk, helpdesk_config

pytestmark = pytest.mark.django_db


@pytest.fixture
def helpdesk(tmp_path: Path) -> Helpdesk:
    path = tmp_path / "helpdesk.db"
    sqlite3.connect(path).close()
    store = Helpdesk(kind="sqlite", dsn=f"sqlite:///{path}")
    store.build()
    return store


def _connect(store: Helpdesk) -> Connector:
    config = helpdesk_config(store.dsn)
    return Connector.objects.create(name="helpdesk", kind="sql", config=config)


def _erase(make_request: Any, capture: Any) -> Request:
    with capture(execute=True):
        request = make_request(
            kind="erasure", verified=True, identity={"email": SUBJECT["email"]}
        )
    request.refresh_from_db()
    return request


def _events(request: Request) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(object_id=str(request.public_id)).order_by("sequence")
    )


def test_a_store_that_answers_at_once_is_checked_in_the_erasing_run(
    helpdesk: Helpdesk, make_request: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _connect(helpdesk)

    request = _erase(make_request, django_capture_on_commit_callbacks)

    # then the request completed, with the store's verification recorded as
    # a task of its own (one attempt, found nothing) and audited
    assert request.status == RequestStatus.COMPLETED
    verify = RequestTask.objects.get(request=request, action=Action.VERIFY_ERASURE)
    assert verify.status == TaskStatus.SUCCEEDED
    assert verify.records_found == 0
    assert "erasing run" in verify.status_note
    assert verify.tries.count() == 1
    assert verify.tries.get().outcome == "succeeded"
    events = _events(request)
    actions = [e.action for e in events]
    assert "request.verification_planned" not in actions
    checked = [e.data for e in events if e.action == "task.succeeded"]
    assert [d["action"] for d in checked] == ["erase", "verify_erasure"]
    assert checked[1]["task"] == str(verify.public_id)
    assert (
        helpdesk.value(
            "SELECT COUNT(*) FROM customers WHERE lower(email) = ?",
            [SUBJECT["email"].lower()],
        )
        == 0
    )


def test_what_the_check_finds_left_keeps_the_request_from_completing(
    helpdesk: Helpdesk, make_request: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given a store whose own sync job writes deleted AI logs straight back
    helpdesk.execute(
        "CREATE TRIGGER resync AFTER DELETE ON ai_conversations BEGIN "
        "INSERT INTO ai_conversations (customer_email, model, transcript) "
        "VALUES (old.customer_email, old.model, old.transcript); END"
    )
    _connect(helpdesk)

    request = _erase(make_request, django_capture_on_commit_callbacks)

    verify = RequestTask.objects.get(request=request, action=Action.VERIFY_ERASURE)
    assert verify.records_found > 0
    assert request.status == RequestStatus.PARTIALLY_COMPLETED
    assert "still holds" in request.status_reason


def test_stores_that_cannot_answer_at_once_still_get_a_queued_pass(
    helpdesk: Helpdesk,
    make_request: Any,
    officer_actor: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from dsr.services.execution.staff import task_manual_done

    # given the SQL store and a store erased by hand
    _connect(helpdesk)
    Connector.objects.create(
        name="legacy-billing",
        kind="manual",
        config={"instructions": "Delete the customer in the billing tool."},
    )
    request = _erase(make_request, django_capture_on_commit_callbacks)
    manual = RequestTask.objects.get(
        request=request, action=Action.ERASE, connector__name="legacy-billing"
    )

    # when the person says it is done
    with django_capture_on_commit_callbacks(execute=True):
        task_manual_done(actor=officer_actor, task=manual, note="Deleted account 77")

    # then only the hand-erased store gets a queued verification
    planned = [
        e.data["tasks"]
        for e in _events(request)
        if e.action == "request.verification_planned"
    ]
    waiting = RequestTask.objects.get(
        request=request, action=Action.VERIFY_ERASURE, connector__name="legacy-billing"
    )
    assert planned == [[str(waiting.public_id)]]
    assert waiting.status == TaskStatus.WAITING
    checked = RequestTask.objects.get(
        request=request, action=Action.VERIFY_ERASURE, connector__name="helpdesk"
    )
    assert checked.status == TaskStatus.SUCCEEDED
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_PROGRESS


def test_a_queued_pass_verifies_from_the_receipt_stored_encrypted_on_the_task(
    helpdesk: Helpdesk,
    make_request: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given the check right after erasing fails once, just after her name was
    # written back into a message (as a redaction that missed it would leave
    # it), so the verification pass is queued and run by a fresh instance
    verify_erased = SqlConnector.verify_erased
    given: list[ErasureReceipt | None] = []

    def fails_once(
        self: SqlConnector, identity: Identity, receipt: ErasureReceipt | None = None
    ) -> Outcome:
        given.append(receipt)
        if len(given) == 1:
            helpdesk.execute(
                "UPDATE messages SET body = ? WHERE id = (SELECT MIN(id) FROM "
                "messages WHERE ticket_id = ?)",
                ["Jane Doe called again", helpdesk.subject_ticket_ids[0]],
            )
            raise ConnectorError("the store is busy")
        return verify_erased(self, identity, receipt)

    monkeypatch.setattr(SqlConnector, "verify_erased", fails_once)
    _connect(helpdesk)

    # when the erasure runs
    request = _erase(make_request, django_capture_on_commit_callbacks)

    # then the erase task keeps its receipt, encrypted at rest
    erase = RequestTask.objects.get(request=request, action=Action.ERASE)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT erasure_receipt FROM dsr_requesttask WHERE id = %s", [erase.pk]
        )
        (stored,) = cursor.fetchone()
    assert "Jane" not in stored
    assert ErasureReceipt.from_json(erase.erasure_receipt).knows("names") == (
        "Jane Doe",
    )
    # and both the check in the erasing run and the queued pass were given it
    assert len(given) == 2
    assert all(receipt is not None for receipt in given)
    assert given[0] == given[1]
    # so the queued pass found the name the store no longer holds
    verify = RequestTask.objects.get(request=request, action=Action.VERIFY_ERASURE)
    assert "erasing run" not in verify.status_note
    assert verify.per_location["messages"]["found"] == 1
    request.refresh_from_db()
    assert request.status == RequestStatus.PARTIALLY_COMPLETED
