"""A vector store linked to the helpdesk, erased by a real worker process
(two at once): whichever task the worker picks first, the helpdesk's only
attempt starts after the vector store's task ended, and the vector store
found the points of the tickets the helpdesk then deleted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.demo.content import customer
from dsr.models import Request, RequestTask
from tests.connectors.vector_points import linked_stores
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


def _closed(request: Request) -> Request | None:
    request.refresh_from_db()
    return request if not request.is_open else None


def test_the_worker_erases_the_helpdesk_after_the_store_that_reads_it(
    worker: Any, make_request: Any, tmp_path: Path
) -> None:
    linked_stores(tmp_path)
    request = make_request(
        kind="erasure", verified=True, identity={"email": customer(1).email}
    )

    request = wait_for(lambda: _closed(request), what="the erasure to complete")

    assert request.status == "completed", request.status_reason
    erase = {
        t.connector.name: t
        for t in RequestTask.objects.filter(request=request, action="erase")
    }
    memory, helpdesk = erase["memory"], erase["helpdesk"]
    assert memory.records_changed == 6  # her 5 tickets' points and her AI chat
    assert helpdesk.attempts == 1  # a hold counts no attempt
    (attempt,) = helpdesk.tries.all()
    assert attempt.started_at >= memory.finished_at
    assert helpdesk.per_location["tickets"]["changed"] == 5
