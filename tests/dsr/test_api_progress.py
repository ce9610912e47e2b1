"""The progress of the work in each store, as the requests API reports it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.actors import actor_system
from connectors.models import Connector
from connectors.services import connector_create
from dsr.models import Request, RequestTask
from dsr.services.execution.running import task_run
from dsr.services.execution.staff import task_skip
from tests.disclosure import CATEGORIES, DISCLOSURE

URL = "/api/v1/requests/"
INSTRUCTIONS = "Open the billing system, find the customer by e-mail and flag them."

MakeClient = Callable[..., tuple[Any, APIClient]]


def _manual(name: str) -> Connector:
    return connector_create(
        actor=actor_system("tests"),
        name=name,
        kind="manual",
        config={"instructions": INSTRUCTIONS},
        data_categories=CATEGORIES,
        disclosure=DISCLOSURE,
    )


def _detail(http: APIClient, dsr: Request) -> dict[str, Any]:
    response = http.get(f"{URL}{dsr.public_id}/")
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db
def test_detail_reports_progress_and_each_task(
    make_api_client: MakeClient, make_request
) -> None:
    # given an erasure in two stores: one done, one waiting for a person
    _manual("billing")
    _manual("crm")
    dsr = make_request(kind="erasure", verified=True)
    billing, crm = dsr.tasks.order_by("connector__name")
    RequestTask.objects.filter(pk=billing.pk).update(
        status="succeeded",
        attempts=1,
        records_found=12,
        records_changed=9,
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    task_run(task_id=crm.pk)
    _, http = make_api_client("requests:read")

    # when
    body = _detail(http, dsr)

    # then
    assert body["progress"] == {
        "tasks_total": 2,
        "tasks_done": 1,
        "records_found": 12,
        "records_changed": 9,
    }
    first, second = body["tasks"]
    assert first["id"] == str(billing.public_id)
    assert first["connector"] == "billing"
    assert first["action"] == "erase"
    assert first["status"] == "succeeded"
    assert first["manual"] is False
    assert (first["attempts"], first["max_attempts"]) == (1, billing.max_attempts)
    assert (first["records_found"], first["records_changed"]) == (12, 9)
    assert first["started_at"]
    assert first["finished_at"]
    assert first["exemptions"] == []
    assert second["connector"] == "crm"
    assert second["status"] == "waiting"
    assert second["finished_at"] is None
    assert set(first) == {
        "id",
        "connector",
        "action",
        "status",
        "manual",
        "attempts",
        "max_attempts",
        "records_found",
        "records_changed",
        "last_error",
        "started_at",
        "finished_at",
        "exemptions",
    }


@pytest.mark.django_db
def test_detail_shows_failures_and_exemptions_with_their_basis(
    make_api_client: MakeClient, make_request, officer_actor
) -> None:
    # given one store failed, the other exempted with a legal basis
    _manual("billing")
    _manual("crm")
    dsr = make_request(kind="erasure", verified=True)
    billing, crm = dsr.tasks.order_by("connector__name")
    RequestTask.objects.filter(pk=billing.pk).update(
        status="failed", last_error="connection refused by db.internal:5432"
    )
    task_skip(
        actor=officer_actor,
        task=crm,
        reason="Invoices must be kept for ten years.",
        basis="GDPR 17(3)(b) legal obligation",
    )
    _, http = make_api_client("requests:read")

    # when
    body = _detail(http, dsr)

    # then
    failed, exempted = body["tasks"]
    assert failed["status"] == "failed"
    assert failed["last_error"] == "connection refused by db.internal:5432"
    assert exempted["status"] == "exempted"
    assert exempted["exemptions"] == [
        {
            "location": "*",
            "fields": [],
            "basis": "GDPR 17(3)(b) legal obligation",
            "reason": "Invoices must be kept for ten years.",
            "count": 0,
            "until": None,
        }
    ]
    assert body["progress"]["tasks_done"] == 2


@pytest.mark.django_db
def test_verification_passes_count_as_tasks_not_as_records(
    make_api_client: MakeClient, make_request
) -> None:
    # given an erasure whose verification found nothing left
    connector = _manual("billing")
    dsr = make_request(kind="erasure", verified=True)
    RequestTask.objects.filter(request=dsr).update(
        status="succeeded", records_found=4, records_changed=4
    )
    RequestTask.objects.create(
        request=dsr,
        connector=connector,
        action="verify_erasure",
        status="running",
        records_found=1,
    )
    _, http = make_api_client("requests:read")

    # when
    body = _detail(http, dsr)

    # then
    assert body["progress"] == {
        "tasks_total": 2,
        "tasks_done": 1,
        "records_found": 4,
        "records_changed": 4,
    }
    assert body["tasks"][1]["action"] == "verify_erasure"


@pytest.mark.django_db
def test_a_request_without_connectors_has_no_tasks(
    make_api_client: MakeClient, make_request
) -> None:
    dsr = make_request(verified=True)
    _, http = make_api_client("requests:read")

    body = _detail(http, dsr)

    assert body["tasks"] == []
    assert body["progress"] == {
        "tasks_total": 0,
        "tasks_done": 0,
        "records_found": 0,
        "records_changed": 0,
    }


@pytest.mark.django_db
def test_task_output_holds_no_personal_data_or_instructions(
    make_api_client: MakeClient, make_request
) -> None:
    # given a waiting manual task whose note repeats the instructions
    _manual("billing")
    dsr = make_request(
        kind="restriction",
        verified=True,
        identity={"email": "ada.lovelace@example.com"},
    )
    task_run(task_id=dsr.tasks.get().pk)
    _, http = make_api_client("requests:read")

    # when
    text = http.get(f"{URL}{dsr.public_id}/").content.decode()

    # then
    assert "ada.lovelace" not in text
    assert INSTRUCTIONS not in text


@pytest.mark.django_db
def test_list_stays_light_without_tasks_or_progress(
    make_api_client: MakeClient, make_request
) -> None:
    _manual("billing")
    make_request(kind="restriction", verified=True)
    _, http = make_api_client("requests:read")

    row = http.get(URL).json()["results"][0]

    assert "tasks" not in row
    assert "progress" not in row


@pytest.mark.django_db
def test_action_responses_carry_the_progress_too(
    make_api_client: MakeClient, make_request
) -> None:
    # given a received request and a store to fan out to
    _manual("billing")
    dsr = make_request(kind="access")
    _, http = make_api_client("requests:read", "requests:verify")

    # when it is verified through the API
    response = http.post(f"{URL}{dsr.public_id}/verify/", {}, format="json")

    # then the response already lists the planned task
    body = response.json()
    assert response.status_code == 200
    assert body["progress"]["tasks_total"] == 1
    assert body["tasks"][0]["connector"] == "billing"
    assert body["tasks"][0]["status"] == "pending"
