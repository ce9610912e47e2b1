"""The status page and cancelling from it."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from dsr.links import status_token


def _status_url(request) -> str:
    return reverse("portal:status", args=[status_token(str(request.public_id))])


def test_status_page_shows_the_request_without_personal_data(
    client: Client, make_request
):
    # given
    request = make_request(channel="portal", details="my account is 12345")

    # when
    response = client.get(_status_url(request))

    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert request.reference in body
    assert "Get a copy of my data" in body
    assert "Waiting for you to confirm it is you" in body
    assert "Not confirmed yet" in body
    assert f"{request.due_on.day} {request.due_on:%B %Y}" in body
    assert "days left" in body
    assert "ada.lovelace" not in body
    assert "12345" not in body
    assert response["Cache-Control"].startswith("max-age=0")


def test_bad_status_token_is_a_helpful_404(client: Client, db):
    # when
    response = client.get(reverse("portal:status", args=["not-a-real-token"]))

    # then
    assert response.status_code == 404
    body = response.content.decode()
    assert "expired" in body
    assert "Need help?" in body


def test_expired_status_token_is_a_404(client: Client, make_request, settings):
    # given a link older than its maximum age
    request = make_request()
    url = _status_url(request)
    later = timezone.now() + timedelta(days=settings.PORTAL_LINK_MAX_AGE_DAYS + 1)

    # when
    with time_machine.travel(later, tick=False):
        response = client.get(url)

    # then
    assert response.status_code == 404


def test_cancel_needs_the_confirm_box(client: Client, make_request):
    # given
    request = make_request(channel="portal")

    # when the box is not ticked
    response = client.post(_status_url(request), {})

    # then nothing happens and the box shows an error
    assert response.context["form"].errors["confirm"] == [
        "Tick the box to confirm you want to cancel."
    ]
    assert 'id="id_confirm_error"' in response.content.decode()
    request.refresh_from_db()
    assert request.status == "received"


def test_cancel_from_the_status_page(
    client: Client, make_request, django_capture_on_commit_callbacks
):
    # given
    request = make_request(channel="portal")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_status_url(request), {"confirm": "on"}, follow=True)

    # then
    request.refresh_from_db()
    assert request.status == "cancelled"
    body = response.content.decode()
    assert "Your request has been cancelled." in body
    assert "Cancel my request" not in body
    event = AuditEvent.objects.filter(action="request.cancelled").get()
    assert event.actor == f"subject:{request.public_id}"
    assert [m.subject for m in mail.outbox] == [
        f"Your privacy request {request.reference} was cancelled"
    ]


def test_cancel_is_not_offered_or_allowed_once_in_progress(
    client: Client, make_request
):
    # given a request the work has started on
    request = make_request(verified=True)
    assert request.status == "in_progress"

    # when the page is shown
    page = client.get(_status_url(request))

    # then there is no cancel button
    assert "Cancel my request" not in page.content.decode()

    # when a cancel is posted anyway
    response = client.post(_status_url(request), {"confirm": "on"})

    # then it is refused with a message, and nothing changed
    assert response.status_code == 409
    assert "can no longer be cancelled" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "in_progress"
    assert not AuditEvent.objects.filter(action="request.cancelled").exists()
