"""What a closed request still needs travels in one message
(dsr.tasks.request_closed_task): the subject's notice and the evidence pack."""

from __future__ import annotations

from django.core import mail

from dsr.services.requests import request_reject
from dsr.tasks import request_closed_task


def test_a_rejection_tells_the_subject_and_builds_the_evidence_pack(
    make_request, officer_actor, django_capture_on_commit_callbacks
) -> None:
    request = make_request(identity={"email": "grace@example.org"})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        request_reject(
            actor=officer_actor, request=request, reason="Duplicate of DSR-1"
        )
    assert len(callbacks) == 1  # one message for both
    assert [m.to for m in mail.outbox] == [["grace@example.org"]]
    assert "Duplicate of DSR-1" in mail.outbox[0].body
    assert request.evidence_packs.count() == 1


def test_a_retry_sends_the_notice_without_a_second_evidence_pack(
    make_request, officer_actor, django_capture_on_commit_callbacks
) -> None:
    request = make_request(identity={"email": "grace@example.org"})
    with django_capture_on_commit_callbacks(execute=False):
        request_reject(
            actor=officer_actor, request=request, reason="Duplicate of DSR-1"
        )
    # the first try queued the pack, then the e-mail failed; this is the retry
    request_closed_task.apply(args=[request.pk, "rejected"], retries=1)
    assert len(mail.outbox) == 1
    assert request.evidence_packs.count() == 0


def test_no_notice_still_builds_the_evidence_pack(
    make_request, officer_actor, django_capture_on_commit_callbacks
) -> None:
    request = make_request()
    with django_capture_on_commit_callbacks(execute=False):
        request_reject(
            actor=officer_actor, request=request, reason="Duplicate of DSR-1"
        )
    request_closed_task.apply(args=[request.pk, None])
    assert mail.outbox == []
    assert request.evidence_packs.count() == 1
