"""Who is excluded from training, from when, and what lifts it."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command

from accounts.actors import actor_for_user
from audit.models import AuditEvent
from consent.models import ConsentEvent
from dsr.models import Request
from dsr.services.requests import request_verify
from privacydesk.errors import NotPermitted
from subjects.models import DataSubject
from subjects.services import subject_conversations_record
from tests.training.conftest import JAMES, MARIA, recipe_index
from training.choices import EntryAction, KeyKind
from training.exports import export_lines
from training.keys import export_key
from training.models import ExclusionEntry, TrainingExclusion
from training.selectors import exclusion_keys
from training.services.triggers import exclusions_for_requests
from training.tasks import training_consent_changed_task

pytestmark = pytest.mark.django_db


def _exclusions(subject: DataSubject) -> list[TrainingExclusion]:
    return list(
        TrainingExclusion.objects.filter(subject=subject)
        .prefetch_related("keys")
        .order_by("pk")
    )


def test_a_verified_erasure_excludes_the_subject_by_index_and_conversation(
    make_request: Callable[..., Request], verified: Callable[..., Request]
) -> None:
    # given Maria is known, with two conversations the masking gateway saw
    earlier = make_request(kind="access", identity=MARIA)
    subject_conversations_record(
        subject_id=earlier.subject_id,
        conversation_ids=["conv-8812", "conv-9034"],
        source="masking",
    )
    # when she asks for erasure, verified
    request = verified("erasure")
    # then one exclusion, from the request, listing what a pipeline filters by
    [exclusion] = _exclusions(request.subject)
    assert (exclusion.reason, exclusion.source_id) == ("erasure", request.public_id)
    key = export_key()
    assert exclusion_keys(exclusion, KeyKind.BLIND_INDEX) == sorted(
        [
            recipe_index(key, "email", "maria.okafor@example.org"),
            recipe_index(key, "phone", "+442079460123"),
        ]
    )
    assert exclusion_keys(exclusion, KeyKind.CONVERSATION_ID) == [
        "conv-8812",
        "conv-9034",
    ]
    entry = ExclusionEntry.objects.get(exclusion=exclusion)
    assert entry.action == EntryAction.EXCLUDED
    audit = AuditEvent.objects.get(action="training.excluded")
    assert audit.object_id == str(exclusion.public_id)
    # never an identifier, only counts and ids
    assert "okafor" not in str(audit.data).lower()
    assert audit.data["blind_indexes"] == 2
    assert audit.data["conversations"] == 2


def test_objection_excludes_and_other_kinds_do_not(
    verified: Callable[..., Request],
) -> None:
    objection = verified("objection")
    access = verified("access", JAMES)
    assert [e.reason for e in _exclusions(objection.subject)] == ["objection"]
    assert _exclusions(access.subject) == []


def test_an_unverified_erasure_excludes_no_one_until_verified(
    make_request: Callable[..., Request],
    officer_actor: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given an erasure filed but not verified
    with django_capture_on_commit_callbacks(execute=True):
        request = make_request(kind="erasure", identity=MARIA)
    assert _exclusions(request.subject) == []
    # when staff verify it
    with django_capture_on_commit_callbacks(execute=True):
        request_verify(actor=officer_actor, request=request, method="staff_checked")
    # then
    assert [e.source_id for e in _exclusions(request.subject)] == [request.public_id]


def test_recording_the_same_request_twice_adds_nothing(
    verified: Callable[..., Request],
) -> None:
    request = verified("erasure")
    exclusions_for_requests(request_ids=[request.pk])
    exclusions_for_requests(request_ids=[request.pk])
    assert TrainingExclusion.objects.count() == 1
    assert ExclusionEntry.objects.count() == 1


def test_withdrawing_training_consent_excludes_and_a_grant_lifts_it(
    make_request: Callable[..., Request], choose: Callable[..., Any]
) -> None:
    subject = make_request(identity=MARIA).subject
    # a purpose other than model training changes nothing
    choose(subject, "marketing_email", False)
    assert _exclusions(subject) == []
    # when she withdraws consent to model training
    withdrawal = choose(subject, "ai_training", False).event
    [exclusion] = _exclusions(subject)
    assert exclusion.reason == "consent_withdrawn"
    assert exclusion.source_id == withdrawal.public_id
    # a second withdrawal while excluded adds no entry
    choose(subject, "ai_training", False)
    assert ExclusionEntry.objects.count() == 1
    # when she grants it again, the exclusion is lifted with its own entry
    grant = choose(subject, "ai_training", True).event
    exclusion.refresh_from_db()
    assert exclusion.lifted_at is not None
    assert exclusion.lifted_by == grant.public_id
    entries = list(ExclusionEntry.objects.values_list("action", flat=True))
    assert entries == [EntryAction.EXCLUDED, EntryAction.LIFTED]
    # and a new withdrawal is a new exclusion, later in the feed
    choose(subject, "ai_training", False)
    assert [e.active for e in _exclusions(subject)] == [False, True]


def test_a_grant_never_lifts_an_erasure_or_objection(
    verified: Callable[..., Request], choose: Callable[..., Any]
) -> None:
    request = verified("erasure")
    choose(request.subject, "ai_training", False)
    choose(request.subject, "ai_training", True)
    by_reason = {e.reason: e.active for e in _exclusions(request.subject)}
    assert by_reason == {"erasure": True, "consent_withdrawn": False}


def test_the_consent_task_follows_the_current_choice_not_message_order(
    make_request: Callable[..., Request], choose: Callable[..., Any]
) -> None:
    subject = make_request(identity=MARIA).subject
    choose(subject, "ai_training", False)
    choose(subject, "ai_training", True)
    # a late duplicate of the withdrawal's message arrives after the grant
    training_consent_changed_task(subject.pk)
    assert [e.active for e in _exclusions(subject)] == [False]


def test_sync_records_what_a_lost_message_left_out(
    make_request: Callable[..., Request], choose: Callable[..., Any]
) -> None:
    # given exclusions that were never recorded (messages lost): the
    # erasure's commit callbacks never ran, the withdrawal's row is removed
    erasure = make_request(kind="erasure", identity=MARIA, verified=True)
    james = make_request(identity=JAMES).subject
    choose(james, "ai_training", False)
    ExclusionEntry.objects.all().delete()
    TrainingExclusion.objects.all().delete()
    assert ConsentEvent.objects.filter(subject=james).exists()
    # when
    call_command("training_exclusions_sync")
    # then both are on the list; a second run adds nothing
    reasons = sorted(TrainingExclusion.objects.values_list("reason", flat=True))
    assert reasons == ["consent_withdrawn", "erasure"]
    assert TrainingExclusion.objects.get(reason="erasure").subject == erasure.subject
    call_command("training_exclusions_sync")
    assert ExclusionEntry.objects.count() == 2


def test_the_export_command_writes_the_file_and_reports_the_cursor(
    verified: Callable[..., Request], tmp_path: Any, capsys: Any
) -> None:
    verified("objection", MARIA)
    target = tmp_path / "exclusions.jsonl"
    err = io.StringIO()
    call_command(
        "training_exclusions_export",
        "--format",
        "jsonl",
        "--output",
        target,
        stderr=err,
    )
    [line] = [json.loads(text) for text in target.read_text().splitlines()]
    assert line["reason"] == "objection"
    assert len(line["blind_indexes"]) == 2
    cursor = ExclusionEntry.objects.get().pk
    assert f"Feed cursor at export: {cursor}" in err.getvalue()
    # to standard output as CSV: the header, then one row per key
    call_command("training_exclusions_export", stderr=io.StringIO())
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == "kind,value,exclusion,reason,excluded_at"
    assert len(rows) == 3


def test_staff_without_the_training_permission_get_no_export(agent: Any) -> None:
    # refused when asked, not once the file has started streaming
    with pytest.raises(NotPermitted):
        export_lines(actor=actor_for_user(agent), file_format="csv")
