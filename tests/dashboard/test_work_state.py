"""The request page says truthfully where the work in the stores stands, and
an officer can send a request to the stores again (issue 16, item 1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.test import Client
from django.urls import reverse

from accounts.actors import actor_system
from audit.models import AuditEvent
from connectors.models import Connector
from connectors.services import connector_create
from dsr.choices import TaskStatus
from dsr.models import Request, RequestTask
from dsr.services.execution.running import task_run
from tests.disclosure import CATEGORIES, DISCLOSURE


def _detail(dsr: Request) -> str:
    return reverse("dashboard:request_detail", args=[dsr.public_id])


def _send_again(dsr: Request) -> str:
    return reverse("dashboard:request_action", args=[dsr.public_id, "send_again"])


def _manual(name: str) -> Connector:
    return connector_create(
        actor=actor_system("tests"),
        name=name,
        kind="manual",
        config={"instructions": "Find the customer and do it by hand."},
        data_categories=CATEGORIES,
        disclosure=DISCLOSURE,
    )


def _files(name: str, folder: Path) -> Connector:
    """A transcript folder: it can find and erase, not correct."""
    return connector_create(
        actor=actor_system("tests"),
        name=name,
        kind="files",
        config={"folder": str(folder), "identity": {"email": "customer.email"}},
        data_categories=CATEGORIES,
        disclosure=DISCLOSURE,
    )


def _state(page: str) -> str:
    marker = 'data-work-state="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_stores_connected_after_the_start_are_named_not_called_missing(
    officer_client: Client, make_request
) -> None:
    # given requests that started before any store was connected (the demo)
    dsr = make_request(verified=True)
    _manual("helpdesk")
    _manual("billing")

    # when
    page = officer_client.get(_detail(dsr)).content.decode()

    # then no false "no connectors" alarm, but the truth and the remedy
    assert "No connector is enabled" not in page
    assert _state(page) == "unplanned"
    assert "2 enabled stores can find and export and have no task" in page
    assert "billing, helpdesk" in page
    assert _send_again(dsr) in page


def test_officer_sends_a_request_again_and_only_stores_without_a_task_get_one(
    officer_client: Client, make_request, django_capture_on_commit_callbacks
) -> None:
    # given a request planned in one store, and a second store connected later
    _manual("billing")
    dsr = make_request(kind="restriction", verified=True)
    first = dsr.tasks.get()
    _manual("helpdesk")

    # when an officer sends it to the stores again
    with django_capture_on_commit_callbacks(execute=False):
        response = officer_client.post(_send_again(dsr), follow=True)

    # then the new store has a task, the old one is untouched, and it is audited
    tasks = {t.connector.name: t for t in dsr.tasks.select_related("connector")}
    assert set(tasks) == {"billing", "helpdesk"}
    assert tasks["billing"].pk == first.pk
    assert any("Sent to 1 more store: helpdesk." in m for m in _messages(response))
    event = AuditEvent.objects.get(action="request.sent_again")
    assert event.object_id == str(dsr.public_id)
    assert event.actor.startswith("user:")
    assert event.data == {
        "tasks": [str(tasks["helpdesk"].public_id)],
        "action": "restrict",
    }

    # and sending again is idempotent: nothing more is planned, the button
    # is gone, and a stray POST is refused with the reason
    page = officer_client.get(_detail(dsr)).content.decode()
    assert _send_again(dsr) not in page
    again = officer_client.post(_send_again(dsr), follow=True)
    assert dsr.tasks.count() == 2
    assert AuditEvent.objects.filter(action="request.sent_again").count() == 1
    assert any("nothing to send" in m for m in _messages(again))


def test_sent_again_tasks_reach_the_worker(
    officer_client: Client, make_request, django_capture_on_commit_callbacks
) -> None:
    # given an access request that started with no store, and a store now
    dsr = make_request(verified=True)
    _manual("helpdesk")

    # when it is sent again, then its task is queued to the broker after commit
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        officer_client.post(_send_again(dsr))
    task = dsr.tasks.get()
    assert task.status == TaskStatus.PENDING
    assert task.enqueued_at is not None
    assert callbacks  # the send to the broker waits for the commit

    page = officer_client.get(_detail(dsr)).content.decode()
    assert _state(page) == "queued"
    assert "Waiting for the worker:" in page
    assert "1 task queued, not picked up yet" in page


def test_auditor_and_agent_cannot_send_again_and_nothing_changes(
    auditor_client: Client, agent_client: Client, make_request
) -> None:
    dsr = make_request(verified=True)
    _manual("helpdesk")

    for client in (auditor_client, agent_client):
        page = client.get(_detail(dsr)).content.decode()
        assert _state(page) == "unplanned"  # they see the truth
        assert _send_again(dsr) not in page  # but not the button

        response = client.post(_send_again(dsr))

        assert response.status_code == 403
    assert not dsr.tasks.exists()
    assert not AuditEvent.objects.filter(action="request.sent_again").exists()


def test_no_enabled_store_can_do_the_action(
    officer_client: Client, make_request, tmp_path: Path
) -> None:
    # given a transcript folder, which cannot correct, and a rectification
    _files("chats", tmp_path)
    dsr = make_request(
        kind="rectification",
        verified=True,
        corrections={"requested_correction": "My surname is Byron"},
    )

    page = officer_client.get(_detail(dsr)).content.decode()

    assert _state(page) == "no_store"
    assert "No enabled connector can do this action (correct)" in page
    assert "1 connector is enabled" in page
    assert _send_again(dsr) not in page


def test_all_stores_done_and_working_are_told_apart(
    officer_client: Client, make_request
) -> None:
    # given a restriction handled by a person in one store
    _manual("billing")
    dsr = make_request(kind="restriction", verified=True)
    task = dsr.tasks.get()
    assert task_run(task_id=task.pk) == "deferred"

    # then while a person has it, the work is in progress
    assert _state(officer_client.get(_detail(dsr)).content.decode()) == "working"

    # and once every task has ended, all stores are done
    RequestTask.objects.filter(pk=task.pk).update(status=TaskStatus.SUCCEEDED)
    page = officer_client.get(_detail(dsr)).content.decode()
    assert _state(page) == "all_done"
    assert "All stores done." in page


def test_a_request_not_yet_verified_states_no_work(
    officer_client: Client, make_request
) -> None:
    _manual("helpdesk")
    dsr = make_request()

    page = officer_client.get(_detail(dsr)).content.decode()

    assert "data-work-state" not in page
    assert "starts once the identity is verified" in page
