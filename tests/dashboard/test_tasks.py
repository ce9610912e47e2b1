"""The work in each store on a request's page, and staff actions on one task."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.actors import actor_system
from audit.models import AuditEvent
from connectors.models import Connector
from connectors.services import connector_create
from dsr.models import Request, RequestTask, TaskAttempt
from dsr.services.execution.running import task_run
from tests.disclosure import CATEGORIES, DISCLOSURE

INSTRUCTIONS = "Open the billing system, find the customer by e-mail and flag them."


def _manual_connector(name: str = "billing") -> Connector:
    return connector_create(
        actor=actor_system("tests"),
        name=name,
        kind="manual",
        config={"instructions": INSTRUCTIONS},
        data_categories=CATEGORIES,
        disclosure=DISCLOSURE,
    )


def _waiting_manual_task(make_request) -> tuple[Request, RequestTask]:
    """A restriction whose one store is handled by a person."""
    _manual_connector()
    dsr = make_request(kind="restriction", verified=True)
    task = dsr.tasks.get()
    assert task_run(task_id=task.pk) == "deferred"
    task.refresh_from_db()
    return dsr, task


def _failed_task(make_request) -> tuple[Request, RequestTask]:
    _manual_connector()
    dsr = make_request(kind="access", verified=True)
    task = dsr.tasks.get()
    RequestTask.objects.filter(pk=task.pk).update(
        status="failed",
        attempts=5,
        last_error="connection refused by db.internal:5432",
        started_at=timezone.now() - timedelta(minutes=3),
        finished_at=timezone.now(),
    )
    task.refresh_from_db()
    return dsr, task


def _detail(dsr: Request) -> str:
    return reverse("dashboard:request_detail", args=[dsr.public_id])


def _url(dsr: Request, task: RequestTask, action: str) -> str:
    return reverse(
        "dashboard:task_action", args=[dsr.public_id, task.public_id, action]
    )


def _field(action: str, task: RequestTask, name: str) -> str:
    return f"{action}-{task.public_id.hex}-{name}"


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _snapshot(dsr: Request, task: RequestTask) -> tuple:
    dsr.refresh_from_db()
    task.refresh_from_db()
    return (
        dsr.status,
        task.status,
        task.status_note,
        task.exemptions,
        task.max_attempts,
        task.result_digest,
        AuditEvent.objects.count(),
    )


# --- What the page shows ---------------------------------------------------------


def test_request_page_shows_progress_tasks_and_manual_instructions(
    officer_client: Client, make_request
) -> None:
    # given a restriction waiting for a person in the billing store
    dsr, task = _waiting_manual_task(make_request)

    # when
    response = officer_client.get(_detail(dsr))

    # then
    page = response.content.decode()
    assert response.status_code == 200
    for text in (
        "Work in each store",
        "0 of 1</strong> task finished",
        "billing",
        "Manual task",
        "Restrict processing",
        "Waiting for a person",
        "1&nbsp;/&nbsp;5",
        "What to do by hand",
        INSTRUCTIONS,
        "Mark done",
        "Upload proof",
        "Skip this task",
        f'id="task-{task.public_id}"',
        'data-live="10"',
    ):
        assert text in page, text
    progress = response.context["progress"]
    assert (progress.tasks_total, progress.tasks_done) == (1, 0)


def test_an_exemption_says_until_when_the_kept_data_may_persist(
    officer_client: Client, make_request
) -> None:
    # given a store whose processor keeps logs out of the API's reach
    dsr, task = _waiting_manual_task(make_request)
    RequestTask.objects.filter(pk=task.pk).update(
        exemptions=[
            {
                "location": "completion",
                "fields": [],
                "basis": "Processor retention outside the API's reach",
                "reason": "abuse-monitoring logs of the deleted completions",
                "count": 3,
                "until": "2027-01-06",
            }
        ]
    )

    # when
    page = officer_client.get(_detail(dsr)).content.decode()

    # then
    assert "Processor retention outside the API&#x27;s reach" in page
    assert "3 records; may persist until 2027-01-06" in page


def test_progress_counts_finished_tasks_and_records(
    officer_client: Client, make_request
) -> None:
    # given two stores, one done with records found and changed
    _manual_connector("billing")
    _manual_connector("crm")
    dsr = make_request(kind="erasure", verified=True)
    done, _ = dsr.tasks.order_by("connector__name")
    RequestTask.objects.filter(pk=done.pk).update(
        status="succeeded",
        records_found=12,
        records_changed=9,
        finished_at=timezone.now(),
    )

    # when
    page = officer_client.get(_detail(dsr)).content.decode()

    # then
    assert "1 of 2</strong> tasks finished" in page
    assert "<strong>12</strong> records found so far" in page
    assert "<strong>9</strong> changed" in page
    assert 'style="width: 50%"' in page


def test_attempts_of_a_task_are_listed(officer_client: Client, make_request) -> None:
    # given a task that failed twice
    dsr, task = _failed_task(make_request)
    now = timezone.now()
    for number, outcome in ((1, "retry"), (2, "failed")):
        TaskAttempt.objects.create(
            task=task,
            number=number,
            started_at=now,
            finished_at=now,
            duration_ms=1500 + number,
            outcome=outcome,
            error="connection refused by db.internal:5432",
        )

    # when
    page = officer_client.get(_detail(dsr)).content.decode()

    # then
    assert "Attempts (2)" in page
    assert "1501 ms" in page
    assert "Failed, will retry" in page
    assert "Failed for good" in page
    assert "connection refused by db.internal:5432" in page
    assert "Retry" in page


def test_no_connectors_says_the_request_is_handled_by_hand(
    officer_client: Client, agent_client: Client, make_request
) -> None:
    # given no connector at all
    dsr = make_request(verified=True)
    assert dsr.status == "in_progress"

    # when
    officer_page = officer_client.get(_detail(dsr)).content.decode()
    agent_page = agent_client.get(_detail(dsr)).content.decode()

    # then
    message = (
        "No connector is enabled: this request must be handled by hand, then closed"
    )
    assert message in officer_page
    assert reverse("dashboard:connector_list") in officer_page
    assert message in agent_page
    assert reverse("dashboard:connector_list") not in agent_page  # cannot open it
    assert "data-live" not in officer_page


def test_finished_tasks_stop_the_live_refresh(
    officer_client: Client, make_request, officer_actor
) -> None:
    # given
    dsr, task = _waiting_manual_task(make_request)
    officer_client.post(
        _url(dsr, task, "done"), {_field("done", task, "note"): "Flagged in billing."}
    )

    # when
    page = officer_client.get(_detail(dsr)).content.decode()

    # then
    assert "data-live" not in page
    assert "Flagged in billing." in page
    assert "Mark done" not in page


# --- Mark done, attach -----------------------------------------------------------


def test_mark_done_with_a_note_completes_the_request(
    officer_client: Client, make_request
) -> None:
    # given
    dsr, task = _waiting_manual_task(make_request)

    # when
    response = officer_client.post(
        _url(dsr, task, "done"),
        {_field("done", task, "note"): "Flagged the account as restricted."},
        follow=True,
    )

    # then
    task.refresh_from_db()
    dsr.refresh_from_db()
    assert task.status == "succeeded"
    assert task.status_note == "Flagged the account as restricted."
    assert dsr.status == "completed"
    assert response.redirect_chain[-1][0] == f"{_detail(dsr)}#task-{task.public_id}"
    assert any("Marked done" in m for m in _messages(response))
    assert AuditEvent.objects.filter(action="task.succeeded").exists()


def test_mark_done_without_a_note_changes_nothing(
    officer_client: Client, make_request
) -> None:
    # given
    dsr, task = _waiting_manual_task(make_request)
    before = _snapshot(dsr, task)

    # when
    response = officer_client.post(
        _url(dsr, task, "done"), {_field("done", task, "note"): ""}, follow=True
    )

    # then
    assert _snapshot(dsr, task) == before
    assert any(m.startswith("Not done: What was done") for m in _messages(response))


def test_proof_attached_before_mark_done_is_kept(
    officer_client: Client, make_request, settings, tmp_path
) -> None:
    # given
    settings.MEDIA_ROOT = tmp_path
    dsr, task = _waiting_manual_task(make_request)
    upload = SimpleUploadedFile("screenshot.png", b"\x89PNG proof", "image/png")

    # when
    attached = officer_client.post(
        _url(dsr, task, "attach"),
        {_field("attach", task, "attachment"): upload},
        follow=True,
    )
    officer_client.post(
        _url(dsr, task, "done"), {_field("done", task, "note"): "Restricted by hand."}
    )

    # then
    task.refresh_from_db()
    assert any("Proof attached" in m for m in _messages(attached))
    assert task.status == "succeeded"
    assert len(task.result_digest) == 64
    assert task.result_file.startswith(f"tasks/{task.public_id}/")
    page = officer_client.get(_detail(dsr)).content.decode()
    assert "Proof attached" in page
    assert task.result_digest[:16] in page
    assert "screenshot.png" not in page  # a file name may name the subject


# --- Retry, skip -----------------------------------------------------------------


def test_retry_puts_a_failed_task_back_in_the_queue(
    officer_client: Client, make_request
) -> None:
    # given
    dsr, task = _failed_task(make_request)

    # when
    response = officer_client.post(_url(dsr, task, "retry"), follow=True)

    # then
    task.refresh_from_db()
    assert task.status == "pending"
    assert task.max_attempts > task.attempts
    assert any("Queued again" in m for m in _messages(response))
    assert AuditEvent.objects.filter(action="task.retried").exists()


def test_retry_of_a_task_that_did_not_fail_is_an_error_message(
    officer_client: Client, make_request
) -> None:
    # given a task still waiting
    dsr, task = _waiting_manual_task(make_request)
    before = _snapshot(dsr, task)

    # when
    response = officer_client.post(_url(dsr, task, "retry"), follow=True)

    # then
    assert _snapshot(dsr, task) == before
    assert any("only a failed task can be retried" in m for m in _messages(response))


def test_skip_with_a_legal_basis_exempts_the_task(
    officer_client: Client, make_request
) -> None:
    # given
    dsr, task = _failed_task(make_request)

    # when
    response = officer_client.post(
        _url(dsr, task, "skip"),
        {
            _field("skip", task, "reason"): "Invoices must be kept for ten years.",
            _field("skip", task, "basis"): "GDPR 17(3)(b) legal obligation",
        },
        follow=True,
    )

    # then
    task.refresh_from_db()
    assert task.status == "exempted"
    assert task.exemptions[0]["basis"] == "GDPR 17(3)(b) legal obligation"
    assert any("Exempted" in m for m in _messages(response))
    page = response.content.decode()
    assert "GDPR 17(3)(b) legal obligation" in page
    assert "Invoices must be kept for ten years." in page
    assert "the whole store" in page


def test_skip_without_a_basis_skips_the_task(
    officer_client: Client, make_request
) -> None:
    # given
    dsr, task = _waiting_manual_task(make_request)

    # when
    response = officer_client.post(
        _url(dsr, task, "skip"),
        {_field("skip", task, "reason"): "The legacy store was decommissioned."},
        follow=True,
    )

    # then
    task.refresh_from_db()
    assert task.status == "skipped"
    assert task.exemptions == []
    assert task.status_note == "The legacy store was decommissioned."
    assert any("Skipped" in m for m in _messages(response))


def test_skip_needs_a_reason(officer_client: Client, make_request) -> None:
    # given
    dsr, task = _failed_task(make_request)
    before = _snapshot(dsr, task)

    # when
    officer_client.post(
        _url(dsr, task, "skip"),
        {
            _field("skip", task, "reason"): "",
            _field("skip", task, "basis"): "GDPR 17(3)(b)",
        },
    )

    # then
    assert _snapshot(dsr, task) == before


# --- Who may -----------------------------------------------------------------------


@pytest.mark.parametrize("client_fixture", ["agent_client", "auditor_client"])
@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("done", {"note": "Flagged the account as restricted."}),
        ("skip", {"reason": "Not needed here at all.", "basis": "GDPR 17(3)(b)"}),
        ("retry", {}),
    ],
)
def test_agent_and_auditor_cannot_act_on_tasks(
    request, client_fixture: str, action: str, data: dict, make_request
) -> None:
    # given
    client: Client = request.getfixturevalue(client_fixture)
    dsr, task = _waiting_manual_task(make_request)
    before = _snapshot(dsr, task)

    # when
    response = client.post(
        _url(dsr, task, action),
        {_field(action, task, name): value for name, value in data.items()},
    )

    # then
    assert response.status_code == 403
    assert _snapshot(dsr, task) == before


@pytest.mark.parametrize("client_fixture", ["agent_client", "auditor_client"])
def test_agent_and_auditor_see_tasks_without_buttons(
    request, client_fixture: str, make_request
) -> None:
    # given
    client: Client = request.getfixturevalue(client_fixture)
    dsr, task = _waiting_manual_task(make_request)

    # when
    page = client.get(_detail(dsr)).content.decode()

    # then
    assert "Work in each store" in page
    assert INSTRUCTIONS in page
    assert "Mark done" not in page
    assert "Skip this task" not in page
    assert _url(dsr, task, "done") not in page


def test_a_task_is_found_only_through_its_own_request(
    officer_client: Client, make_request
) -> None:
    # given a task of one request and another request
    dsr, task = _waiting_manual_task(make_request)
    other = make_request(kind="access")
    before = _snapshot(dsr, task)

    # when
    response = officer_client.post(
        _url(other, task, "skip"),
        {_field("skip", task, "reason"): "Wrong request on purpose."},
    )

    # then
    assert response.status_code == 404
    assert _snapshot(dsr, task) == before


def test_task_actions_are_post_only_and_known(
    officer_client: Client, make_request
) -> None:
    dsr, task = _waiting_manual_task(make_request)

    assert officer_client.get(_url(dsr, task, "done")).status_code == 405
    assert officer_client.post(_url(dsr, task, "explode")).status_code == 404
