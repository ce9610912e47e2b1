"""A legal hold wins over an erasure request: the store is left as it is and
the request records the exemption with the hold's legal basis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connectors.demo.content import customer
from dsr.choices import RequestStatus, TaskStatus
from dsr.models import Request
from tests.retention.conftest import Helpdesk, hold_customer, make_connector

pytestmark = pytest.mark.django_db


def _customer_rows(store: Helpdesk, customer_id: int) -> dict[str, list[Any]]:
    return {
        "customers": store.rows("SELECT * FROM customers WHERE id = ?", [customer_id]),
        "tickets": store.rows(
            "SELECT * FROM tickets WHERE customer_id = ?", [customer_id]
        ),
        "ai": store.rows(
            "SELECT * FROM ai_conversations WHERE customer_email = ?",
            [customer(customer_id).email],
        ),
    }


def test_erasure_of_a_held_subject_is_exempted_with_the_holds_legal_basis(
    sqlite_helpdesk: Helpdesk,
    make_request: Callable[..., Request],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    make_connector(sqlite_helpdesk)
    hold = hold_customer(5)
    before = _customer_rows(sqlite_helpdesk, 5)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        request = make_request(
            kind="erasure", verified=True, identity={"email": customer(5).email}
        )

    # then
    request.refresh_from_db()
    task = request.tasks.get()
    assert task.status == TaskStatus.EXEMPTED
    assert task.exemptions[0]["basis"] == hold.legal_basis
    assert task.exemptions[0]["hold"] == str(hold.public_id)
    assert request.status == RequestStatus.COMPLETED
    assert _customer_rows(sqlite_helpdesk, 5) == before


def test_erasure_of_someone_else_still_runs(
    sqlite_helpdesk: Helpdesk,
    make_request: Callable[..., Request],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    make_connector(sqlite_helpdesk)
    hold_customer(5)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        request = make_request(
            kind="erasure", verified=True, identity={"email": customer(6).email}
        )

    # then
    erase = request.tasks.get(action="erase")
    assert erase.status == TaskStatus.SUCCEEDED
    assert _customer_rows(sqlite_helpdesk, 6)["ai"] == []
