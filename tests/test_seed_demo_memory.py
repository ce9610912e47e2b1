"""seed_demo's vector store: the AI assistant's memory (embedded Qdrant)
holds embeddings of the demo conversations; an erasure for a demo customer
removes their points, and the request page and the evidence pack say how
many. The stores are built in a var dir of the test's own."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from qdrant_client import QdrantClient, models

from connectors.demo.config import DEMO_MEMORY_CUSTOMERS
from connectors.demo.content import customer
from connectors.demo.vectors import COLLECTION, DIMENSIONS
from connectors.models import Connector
from dsr.models import Request
from evidence.packs.store_facts import stores_part

pytestmark = pytest.mark.django_db
CUSTOMER = customer(7)  # the one seed_demo suggests
ALL = DEMO_MEMORY_CUSTOMERS * 6  # 5 tickets and 1 AI chat each


def _points(path: Path, email: str | None = None) -> int:
    client = QdrantClient(path=str(path))
    try:
        selector = (
            models.Filter(
                must=[
                    models.FieldCondition(
                        key="customer_email", match=models.MatchValue(value=email)
                    )
                ]
            )
            if email
            else None
        )
        return client.count(COLLECTION, count_filter=selector, exact=True).count
    finally:
        client.close()


def test_the_demo_memory_is_seeded_and_a_customers_erasure_empties_it(
    settings: Any,
    monkeypatch: Any,
    tmp_path: Path,
    make_request: Any,
    django_capture_on_commit_callbacks: Any,
    officer: Any,
) -> None:
    settings.VAR_DIR = tmp_path
    # a smaller helpdesk than the demo's 2,000 customers: built in this test
    monkeypatch.setattr("connectors.demo.config.DEMO_CUSTOMERS", 100)
    # the pack's PDF is not what this test reads (its stores part is)
    settings.REQUEST_CLOSED_TASKS = []
    out = StringIO()
    call_command("seed_demo", stdout=out)
    memory = Connector.objects.get(name="support-memory")
    path = Path(memory.config["path"])

    # then the memory holds the first customers' tickets and AI chats, linked
    assert "Connector support-memory: created" in out.getvalue()
    assert memory.kind == "qdrant"
    assert memory.enabled
    assert memory.config["link"] == "helpdesk"
    assert path.is_relative_to(tmp_path)
    assert _points(path) == ALL
    assert _points(path, CUSTOMER.email) == 1  # her tickets' points hold no e-mail
    client = QdrantClient(path=str(path))
    (point,) = client.retrieve(COLLECTION, [1], with_vectors=True)
    client.close()
    assert len(point.vector) == DIMENSIONS
    assert point.payload["conversation_id"] == 1
    assert "ORD-" in point.payload["document"]  # the ticket's text
    # seeding again rebuilds nothing
    call_command("seed_demo", stdout=StringIO())
    assert _points(path) == ALL

    # when an erasure for her runs (the eager broker) in the memory alone
    # (the helpdesk waiting for it: tests/dsr/test_linked_erasure_order.py);
    # a link reads a disabled store all the same
    Connector.objects.exclude(pk=memory.pk).update(enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        request = make_request(
            kind="erasure", verified=True, identity={"email": CUSTOMER.email}
        )

    # then her 6 points are gone, the others stay
    request = Request.objects.get(pk=request.pk)
    assert request.status == "completed", request.status_reason
    task = request.tasks.get(connector=memory, action="erase")
    assert (task.records_found, task.records_changed) == (6, 6)
    assert task.per_location == {COLLECTION: {"found": 6, "changed": 6}}
    assert _points(path) == ALL - 6
    check = request.tasks.get(connector=memory, action="verify_erasure")
    assert check.records_found == 0
    assert request.tasks.count() == 2  # the erasure and its check

    # the request page shows it
    web = Client()
    web.force_login(officer)
    page = web.get(reverse("dashboard:request_detail", args=[request.public_id]))
    html = page.content.decode()
    assert page.status_code == 200
    row = html[html.index("support-memory") :]
    assert "6 found" in row[:2000]
    assert "6 changed" in row[:2000]
    # and the evidence pack's stores part
    tasks = list(request.tasks.select_related("connector"))
    (store,) = [s for s in stores_part(request, tasks) if s["connector"] == memory.name]
    assert (store["found"], store["changed"]) == (6, 6)
    (location,) = store["locations"]
    assert location["location"] == COLLECTION
    assert store["verification"]["result"] == "passed"
    assert "points (vectors, documents and metadata) deleted" in str(store)
