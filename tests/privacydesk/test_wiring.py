"""What the request lifecycle hands to the apps above it: an entry scoped
to a channel is sent only for requests that came by it (a portal request's
close costs no OpenDSR message), the others always."""

from __future__ import annotations

from typing import Any

import pytest

from privacydesk.wiring import wired_tasks_send

STATUS = "opendsr.tasks.opendsr_status_changed_task"
PACK = "evidence.tasks.evidence_pack_generate_task"
SHRED = "masking.tasks.masking_request_started_task"

pytestmark = pytest.mark.django_db


def test_the_settings_scope_the_opendsr_callbacks_to_its_channel(
    settings: Any,
) -> None:
    assert (STATUS, "opendsr") in settings.REQUEST_CLOSED_TASKS
    assert PACK in settings.REQUEST_CLOSED_TASKS
    assert (STATUS, "opendsr") in settings.REQUEST_STARTED_TASKS
    # every start reaches the masking gateway, which shreds for an erasure
    assert SHRED in settings.REQUEST_STARTED_TASKS


def test_an_entry_scoped_to_a_channel_is_sent_only_for_that_channel(
    settings: Any,
) -> None:
    settings.REQUEST_STARTED_TASKS = [(STATUS, "opendsr")]
    missing = 0  # no such request: the task does nothing with it

    assert wired_tasks_send("REQUEST_STARTED_TASKS", args=[missing]) == []
    assert (
        wired_tasks_send("REQUEST_STARTED_TASKS", args=[missing], channel="portal")
        == []
    )
    assert wired_tasks_send(
        "REQUEST_STARTED_TASKS", args=[missing], channel="opendsr"
    ) == [STATUS]


def test_consent_changes_reach_training_only_for_the_training_purpose() -> None:
    changed = "training.tasks.training_consent_changed_task"
    missing = 0  # no such subject: the task does nothing with it

    for slug in ("marketing_email", "ai_processing"):
        assert (
            wired_tasks_send("CONSENT_CHANGED_TASKS", args=[missing], channel=slug)
            == []
        )
    assert wired_tasks_send(
        "CONSENT_CHANGED_TASKS", args=[missing], channel="ai_training"
    ) == [changed]
    # every verification is told (training keeps erasures and objections)
    assert wired_tasks_send("REQUEST_VERIFIED_TASKS", args=[[missing]]) == [
        "training.tasks.training_requests_verified_task"
    ]
