"""The e-mails the services send: every notice renders, and says what it must."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import mail
from django.test import override_settings

from dsr.regimes import supervisory_authority
from dsr.services.clock import request_extend
from dsr.services.reminders import deadline_reminders_send
from dsr.services.requests import request_close, request_reject


def _only_mail():
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    assert "\n" not in message.subject
    return message, html


def test_rejection_email_has_the_three_gdpr_12_4_elements(
    make_request, officer_actor, settings, django_capture_on_commit_callbacks
):
    # given
    request = make_request()
    reason = "We hold no data linked to this address & cannot identify you."

    # when
    with django_capture_on_commit_callbacks(execute=True):
        request_reject(actor=officer_actor, request=request, reason=reason)

    # then both parts carry the reasons and both rights
    message, html = _only_mail()
    assert message.to == ["ada.lovelace@example.com"]
    assert reason in message.body
    assert supervisory_authority(request.regime) in message.body
    assert "right to complain to a supervisory authority" in message.body
    assert "right to seek a judicial remedy" in message.body
    assert "We hold no data linked to this address &amp; cannot identify you." in html
    assert "right to complain to a supervisory authority" in html
    assert "right to seek a judicial remedy" in html
    assert request.reference in message.subject


def test_extension_email_gives_the_new_date_and_the_reasons(
    make_request, officer_actor, django_capture_on_commit_callbacks
):
    # given
    request = make_request(verified=True)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        request = request_extend(
            actor=officer_actor, request=request, reason="Twelve systems to search."
        )

    # then
    message, html = _only_mail()
    new_date = f"{request.due_on.day} {request.due_on:%B %Y}"
    assert new_date in message.body
    assert new_date in html
    assert "Twelve systems to search." in message.body
    assert "Twelve systems to search." in html


@pytest.mark.parametrize(
    ("outcome", "note", "words"),
    [
        ("completed", "", "We have done what you asked"),
        ("partially_completed", "The invoices are kept for tax law.", "part of"),
        ("failed", "The archive could not be reached.", "could not complete"),
    ],
)
def test_closing_email_states_the_outcome(
    make_request,
    officer_actor,
    django_capture_on_commit_callbacks,
    outcome,
    note,
    words,
):
    # given
    request = make_request(verified=True)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        request_close(actor=officer_actor, request=request, outcome=outcome, note=note)

    # then
    message, html = _only_mail()
    assert words in message.body
    assert words in html
    if note:
        assert note in message.body
        assert note in html


def test_code_email_has_the_code_link_expiry_and_reference(submit, settings):
    # when
    _response, request = submit()

    # then
    message, html = _only_mail()
    assert request.reference in message.subject
    assert f"{settings.PORTAL_CODE_TTL_MINUTES} minutes" in message.body
    assert "/privacy/verify-link/" in message.body
    assert "/privacy/verify-link/" in html
    assert "/privacy/status/" in message.body
    assert "What happens next" in html
    assert "@" not in message.body.split("/privacy/", 1)[1]


@override_settings(PRIVACY_OFFICER_EMAILS=["dpo@example.com"])
def test_officer_digest_lists_references_only(make_request, time_machine):
    # given two open requests, both past their due date
    first = make_request(verified=True)
    second = make_request(verified=True, identity={"email": "grace.hopper@example.com"})
    later = max(first.due_on, second.due_on) + timedelta(days=2)
    time_machine.move_to(datetime.combine(later, time(12), tzinfo=UTC), tick=False)

    # when
    sent = deadline_reminders_send()

    # then
    message, html = _only_mail()
    assert sent == 2
    assert message.to == ["dpo@example.com"]
    for part in (message.body, html):
        assert first.reference in part
        assert second.reference in part
        assert "ada.lovelace" not in part
        assert "grace.hopper" not in part
    assert "2 overdue" in message.subject
