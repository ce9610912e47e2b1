"""What a closed request still needs travels in one message
(dsr.tasks.request_closed_task): the subject's notice and the evidence pack."""

from __future__ import annotations

from unittest import mock

from django.core import mail
from django.core.mail import EmailMultiAlternatives

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


def test_a_failed_email_is_retried_without_a_second_evidence_pack(
    make_request, officer_actor, django_capture_on_commit_callbacks, settings
) -> None:
    settings.TASK_RETRY_BASE_SECONDS = 0
    request = make_request(identity={"email": "grace@example.org"})
    tries: list[int] = []

    def unreachable_mail_server(*args: object, **kwargs: object) -> int:
        tries.append(1)
        raise ConnectionRefusedError("mail server down")

    # when the request closes while the mail server refuses connections
    with (
        mock.patch.object(EmailMultiAlternatives, "send", unreachable_mail_server),
        django_capture_on_commit_callbacks(execute=True),
    ):
        request_reject(
            actor=officer_actor, request=request, reason="Duplicate of DSR-1"
        )
    # then the e-mail was tried again and again, the pack queued only once
    assert len(tries) == 1 + request_closed_task.max_retries
    assert request.evidence_packs.count() == 1
    # and a later try that reaches the server sends it
    request_closed_task.apply(
        kwargs={"request_id": request.pk, "notice": "rejected", "pack_queued": True}
    )
    assert len(mail.outbox) == 1
    assert request.evidence_packs.count() == 1


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
