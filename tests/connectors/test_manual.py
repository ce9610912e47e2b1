"""The manual kind through the real executor: a person does the work, with proof."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.actors import actor_for_user
from audit.models import AuditEvent
from connectors.base import ConfigError, Deferred, Identity, Job
from connectors.choices import Action
from connectors.kinds.manual import ManualConnector
from connectors.models import Connector
from connectors.services import connector_create
from dsr.choices import RequestStatus, TaskStatus
from dsr.models import Request, RequestTask
from dsr.services.execution.staff import task_manual_attach, task_manual_done
from privacydesk.errors import IllegalTransition, NotPermitted
from tests.disclosure import CATEGORIES, DISCLOSURE

INSTRUCTIONS = "Log into the legacy billing system and flag the customer's account."


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def billing(db: Any, system_actor: Any) -> Connector:
    return connector_create(
        actor=system_actor,
        name="legacy-billing",
        kind="manual",
        config={"instructions": INSTRUCTIONS, "assignee_email": "billing@example.com"},
        data_categories=["billing"],
        disclosure=DISCLOSURE,
    )


def _events(request: Request) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=str(request.public_id))
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def _waiting_task(request: Request, action: str) -> RequestTask:
    task = RequestTask.objects.get(request=request, action=action)
    assert task.status == TaskStatus.WAITING
    return task


# --- the kind -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "config.instructions"),
        ({"instructions": "   "}, "config.instructions"),
        ({"instructions": 42}, "config.instructions"),
        (
            {"instructions": INSTRUCTIONS, "assignee_email": "nobody"},
            "config.assignee_email",
        ),
        ({"instructions": INSTRUCTIONS, "deadline": "soon"}, "config.deadline"),
        ([], "config"),
    ],
)
def test_a_manual_config_needs_instructions(config: Any, field: str) -> None:
    with pytest.raises(ConfigError) as error:
        ManualConnector.validate_config(config)

    assert error.value.field == field


@pytest.mark.parametrize("action", list(Action))
def test_every_action_is_handed_to_a_person(action: str) -> None:
    kind = ManualConnector(
        name="legacy-billing",
        config=ManualConnector.validate_config({"instructions": INSTRUCTIONS}),
        secrets={},
    )
    job = Job(
        task_id="t-1",
        request_reference="DSR-2026-000001",
        action=action,
        identity=Identity(emails=("ada@example.com",)),
    )

    result = kind.run(job, sink=None)  # type: ignore[arg-type]

    assert isinstance(result, Deferred)
    assert INSTRUCTIONS in result.note
    assert "ada@example.com" not in result.note  # the person looks the subject up


# --- through the executor -------------------------------------------------------------


def test_a_restriction_waits_for_a_person_and_completes_when_done(
    billing: Connector,
    make_request: Any,
    officer_actor: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a verified restriction request: the executor runs the task at once
    with django_capture_on_commit_callbacks(execute=True):
        request = make_request(kind="restriction", verified=True)

    task = _waiting_task(request, Action.RESTRICT)
    assert not task.manual  # the kind does it (by a person), not a fallback
    assert INSTRUCTIONS in task.status_note
    assert task.tries.get().outcome == "deferred"
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_PROGRESS

    # when the officer says what they did
    with django_capture_on_commit_callbacks(execute=True):
        task_manual_done(
            actor=officer_actor, task=task, note="Flag set on account 77 in billing"
        )

    # then
    request.refresh_from_db()
    task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED
    assert task.status_note == "Flag set on account 77 in billing"
    assert request.status == RequestStatus.COMPLETED
    events = _events(request)
    assert "request.fanned_out" in events
    assert "task.succeeded" in events
    done = AuditEvent.objects.get(
        object_id=str(request.public_id), action="task.succeeded"
    )
    assert done.actor == officer_actor.ref


def test_an_erasure_by_hand_is_verified_by_hand_too(
    billing: Connector,
    make_request: Any,
    officer_actor: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request = make_request(kind="erasure", verified=True)
    erase = _waiting_task(request, Action.ERASE)

    with django_capture_on_commit_callbacks(execute=True):
        task_manual_done(actor=officer_actor, task=erase, note="Deleted account 77")

    verify = _waiting_task(request, Action.VERIFY_ERASURE)
    assert "Verify erasure" in verify.status_note
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_PROGRESS

    with django_capture_on_commit_callbacks(execute=True):
        task_manual_done(
            actor=officer_actor, task=verify, note="Searched billing: nothing left"
        )

    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED
    assert "request.verification_planned" in _events(request)


# --- attachments ----------------------------------------------------------------------


def test_an_attachment_is_stored_hashed_audited_and_kept_when_done(
    billing: Connector,
    make_request: Any,
    officer_actor: Any,
    media: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request = make_request(kind="restriction", verified=True)
    task = _waiting_task(request, Action.RESTRICT)
    content = b"%PDF-1.4 screenshot of the billing flag"
    upload = SimpleUploadedFile("../../Ada Lovelace flag.pdf", content)

    # when
    task = task_manual_attach(actor=officer_actor, task=task, uploaded_file=upload)
    with django_capture_on_commit_callbacks(execute=True):
        task_manual_done(actor=officer_actor, task=task, note="Flag set, see the PDF")

    # then
    task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED
    assert task.result_file == f"tasks/{task.public_id}/Ada_Lovelace_flag.pdf"
    assert task.result_digest == hashlib.sha256(content).hexdigest()
    with default_storage.open(task.result_file) as stored:
        assert stored.read() == content
    assert (media / task.result_file).is_file()
    event = AuditEvent.objects.get(action="task.attachment_added")
    assert event.data["sha256"] == task.result_digest
    assert "Lovelace" not in str(event.data)  # the file's name may name the subject


def test_the_same_attachment_twice_is_recorded_once(
    billing: Connector,
    make_request: Any,
    officer_actor: Any,
    media: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request = make_request(kind="restriction", verified=True)
    task = _waiting_task(request, Action.RESTRICT)

    for _ in range(2):
        task_manual_attach(
            actor=officer_actor,
            task=task,
            uploaded_file=SimpleUploadedFile("proof.txt", b"done"),
        )

    assert AuditEvent.objects.filter(action="task.attachment_added").count() == 1
    assert len(list((media / "tasks" / str(task.public_id)).iterdir())) == 1


def test_an_agent_may_not_attach_and_nothing_is_stored(
    billing: Connector,
    make_request: Any,
    agent: Any,
    media: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request = make_request(kind="restriction", verified=True)
    task = _waiting_task(request, Action.RESTRICT)

    with pytest.raises(NotPermitted):
        task_manual_attach(
            actor=actor_for_user(agent),
            task=task,
            uploaded_file=SimpleUploadedFile("proof.txt", b"done"),
        )

    task.refresh_from_db()
    assert task.result_file == ""
    assert task.result_digest == ""
    assert not (media / "tasks").exists()
    assert not AuditEvent.objects.filter(action="task.attachment_added").exists()


def test_only_a_manual_task_takes_an_attachment(
    make_request: Any,
    officer_actor: Any,
    system_actor: Any,
    media: Path,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a transcript folder connector, whose access task runs by itself
    connector_create(
        actor=system_actor,
        name="chats",
        kind="files",
        config={"folder": str(tmp_path), "identity": {"email": "customer.email"}},
        data_categories=CATEGORIES,
        disclosure=DISCLOSURE,
    )
    request = make_request(kind="erasure", verified=True)
    task = RequestTask.objects.get(request=request, action=Action.ERASE)

    with pytest.raises(IllegalTransition):
        task_manual_attach(
            actor=officer_actor,
            task=task,
            uploaded_file=SimpleUploadedFile("proof.txt", b"done"),
        )

    assert not (media / "tasks").exists()
