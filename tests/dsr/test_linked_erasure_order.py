"""An erasure in a helpdesk that a vector store reads (its `link`) waits for
the vector store's task of the same request: the helpdesk deletes the
tickets whose ids the vector store matches. Real tasks through the executor
(task_run, the eager broker for the release), a real SQLite helpdesk and an
embedded Qdrant store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from audit.models import AuditEvent
from connectors.base import Identity
from connectors.demo.content import customer
from connectors.models import Connector
from dsr.models import Request, RequestTask
from dsr.services.execution.running import task_run
from tests.connectors.vector_points import linked_stores

pytestmark = pytest.mark.django_db
JANE = Identity(emails=(customer(1).email,))


@pytest.fixture
def linked(tmp_path: Path) -> None:
    linked_stores(tmp_path)


def _request(make_request: Any, capture: Any, kind: str = "erasure") -> Request:
    with capture(execute=False):  # planned, not yet run
        return make_request(
            kind=kind, verified=True, identity={"email": customer(1).email}
        )


def _task(request: Request, connector: str) -> RequestTask:
    return request.tasks.get(connector__name=connector, action="erase")


def _held_events(request: Request) -> list[dict[str, Any]]:
    return list(
        AuditEvent.objects.filter(
            object_id=str(request.public_id), action="task.held"
        ).values_list("data", flat=True)
    )


def test_the_helpdesk_run_first_is_held_until_the_vector_store_erased(
    linked: None, make_request: Any, django_capture_on_commit_callbacks: Any
) -> None:
    request = _request(make_request, django_capture_on_commit_callbacks)
    helpdesk, memory = _task(request, "helpdesk"), _task(request, "memory")

    # when the helpdesk's task comes first, it is held: no attempt counted
    assert task_run(task_id=helpdesk.pk) == "held"
    helpdesk.refresh_from_db()
    assert helpdesk.status == "pending"
    assert helpdesk.attempts == 0
    assert not helpdesk.tries.exists()
    assert helpdesk.status_note == (
        "held: waits for memory (which reads this store) to finish"
    )
    assert helpdesk.next_attempt_at is not None  # the sweeper's safety net
    assert _held_events(request) == [
        {
            "task": str(helpdesk.public_id),
            "connector": "helpdesk",
            "waits_for": [str(memory.public_id)],
        }
    ]

    # when the vector store's task ends, it releases the helpdesk's
    with django_capture_on_commit_callbacks(execute=True):
        assert task_run(task_id=memory.pk) == "succeeded"

    # then the points of her tickets went first, then her tickets
    memory.refresh_from_db()
    helpdesk.refresh_from_db()
    assert memory.records_changed == 6  # 5 tickets' points and her AI chat
    assert helpdesk.status == "succeeded"
    assert helpdesk.attempts == 1
    assert not helpdesk.status_note.startswith("held")
    assert helpdesk.per_location["tickets"]["changed"] == 5
    request.refresh_from_db()
    assert request.status == "completed", request.status_reason


def test_the_vector_store_run_first_leaves_nothing_to_hold(
    linked: None, make_request: Any, django_capture_on_commit_callbacks: Any
) -> None:
    request = _request(make_request, django_capture_on_commit_callbacks)
    helpdesk, memory = _task(request, "helpdesk"), _task(request, "memory")

    assert task_run(task_id=memory.pk) == "succeeded"
    assert task_run(task_id=helpdesk.pk) == "succeeded"

    assert _held_events(request) == []
    memory.refresh_from_db()
    assert memory.records_changed == 6
    # and why the order matters: the helpdesk no longer lists her tickets
    store = Connector.objects.get(name="helpdesk").instance()
    assert store.conversation_ids(JANE) == []
    request.refresh_from_db()
    assert request.status == "completed", request.status_reason


def test_other_actions_are_never_held(
    linked: None, make_request: Any, django_capture_on_commit_callbacks: Any
) -> None:
    request = _request(make_request, django_capture_on_commit_callbacks, "access")
    helpdesk = request.tasks.get(connector__name="helpdesk")

    assert task_run(task_id=helpdesk.pk) == "succeeded"
    assert _held_events(request) == []
