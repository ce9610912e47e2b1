"""Proving it is you: the code form, resends and the signed link."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from dsr.links import status_token, verify_token
from dsr.models import VerificationChallenge
from tests.portal.conftest import last_code


def _verify_url(request) -> str:
    return reverse("portal:verify", args=[status_token(str(request.public_id))])


def test_wrong_code_then_right_code_verifies_and_shows_the_status(
    client: Client, submit
):
    # given a request just filed, with its code e-mailed
    _response, request = submit()
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"

    # when a wrong code is typed
    response = client.post(_verify_url(request), {"action": "verify", "code": wrong})

    # then it is refused next to the field, and the attempt counts
    assert response.status_code == 200
    assert (
        "that code is not right" in response.context["form"].errors["code"][0].lower()
    )
    assert 'id="id_code_error"' in response.content.decode()
    assert VerificationChallenge.objects.get(request=request).attempts == 1
    request.refresh_from_db()
    assert request.status == "received"

    # when the right code is typed
    response = client.post(
        _verify_url(request), {"action": "verify", "code": code}, follow=True
    )

    # then the status page says so, with the due date
    request.refresh_from_db()
    assert request.status == "in_progress"
    assert request.verification_method == "email_code"
    final_url = response.redirect_chain[-1][0]
    assert final_url.startswith("/privacy/status/")
    body = response.content.decode()
    assert "confirmed it is you" in body
    assert "In progress" in body
    assert request.reference in body
    assert f"{request.due_on.day} {request.due_on:%B %Y}" in body
    assert "ada.lovelace@example.com" not in body
    # and a confirmation e-mail followed the code
    assert len(mail.outbox) == 2
    assert "confirmed" in mail.outbox[1].subject.lower()


def test_code_with_spaces_is_accepted(client: Client, submit):
    # given
    _response, request = submit()
    code = last_code()

    # when
    client.post(_verify_url(request), {"code": f"{code[:3]} {code[3:]}"})

    # then
    request.refresh_from_db()
    assert request.verified_at is not None


def test_empty_code_is_a_field_error(client: Client, submit):
    # given
    _response, request = submit()

    # when
    response = client.post(_verify_url(request), {"action": "verify", "code": ""})

    # then
    assert response.context["form"].errors["code"] == [
        "Enter the 6-digit code from the e-mail."
    ]
    assert VerificationChallenge.objects.get(request=request).attempts == 0


def test_resend_is_throttled_with_a_field_error(client: Client, submit):
    # given a code sent a moment ago
    _response, request = submit()

    # when a new one is asked for at once
    response = client.post(_verify_url(request), {"action": "resend"})

    # then it is refused next to the code field, and nothing is sent
    assert response.status_code == 200
    assert "a code was just sent" in response.context["form"].errors["code"][0].lower()
    assert len(mail.outbox) == 1
    assert VerificationChallenge.objects.filter(request=request).count() == 1


def test_resend_after_the_wait_sends_a_new_code_and_kills_the_old(
    client: Client, submit
):
    # given
    _response, request = submit()
    old_code = last_code()

    # when a new code is asked for after the wait
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        response = client.post(_verify_url(request), {"action": "resend"}, follow=True)
        new_code = last_code()
        refused = (
            client.post(_verify_url(request), {"code": old_code})
            if old_code != new_code
            else None
        )

    # then
    assert "We sent you a new code" in response.content.decode()
    assert len(mail.outbox) == 2
    if refused is not None:
        assert "code" in refused.context["form"].errors
    request.refresh_from_db()
    assert request.status == "received"


@override_settings(PORTAL_CODE_MAX_ATTEMPTS=3)
def test_after_max_attempts_even_the_right_code_is_refused(client: Client, submit):
    # given three wrong codes
    _response, request = submit()
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        client.post(_verify_url(request), {"code": wrong})

    # when the right code comes next
    response = client.post(_verify_url(request), {"code": code})

    # then it is refused
    assert "too many wrong codes" in response.context["form"].errors["code"][0].lower()
    request.refresh_from_db()
    assert request.status == "received"
    assert request.verified_at is None


def test_expired_code_is_refused(client: Client, submit, settings):
    # given a code older than its time to live
    _response, request = submit()
    code = last_code()
    later = timezone.now() + timedelta(minutes=settings.PORTAL_CODE_TTL_MINUTES + 1)

    # when
    with time_machine.travel(later, tick=False):
        response = client.post(_verify_url(request), {"code": code})

    # then
    assert "expired" in response.context["form"].errors["code"][0].lower()
    request.refresh_from_db()
    assert request.status == "received"


def test_signed_link_get_does_not_verify_but_post_does(client: Client, submit):
    # given the link from the e-mail
    _response, request = submit()
    challenge = VerificationChallenge.objects.get(request=request)
    url = reverse("portal:verify_link", args=[verify_token(challenge.pk)])
    # (the token carries the second it was made: compare up to its stamp)
    assert url.rsplit(":", 2)[0] in mail.outbox[0].body

    # when a mail scanner (or the person) opens it
    response = client.get(url)

    # then nothing changes yet
    assert response.status_code == 200
    assert "Confirm it's me" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "received"

    # when the button is pressed
    response = client.post(url, follow=True)

    # then the request is verified and the status page shown
    request.refresh_from_db()
    assert request.status == "in_progress"
    assert request.verification_method == "email_link"
    assert response.redirect_chain[-1][0].startswith("/privacy/status/")


def test_signed_link_used_twice_is_refused_on_the_second_post(client: Client, submit):
    # given a link already used
    _response, request = submit()
    challenge = VerificationChallenge.objects.get(request=request)
    url = reverse("portal:verify_link", args=[verify_token(challenge.pk)])
    client.post(url)

    # when
    response = client.post(url)

    # then
    assert response.status_code == 400
    assert "no longer works" in response.content.decode()


def test_tampered_signed_link_is_a_404(client: Client, db):
    # when
    response = client.get(reverse("portal:verify_link", args=["42:abc:forged"]))

    # then
    assert response.status_code == 404
    assert "expired" in response.content.decode()


def test_verify_page_of_a_verified_request_goes_to_the_status(
    client: Client, make_request
):
    # given
    request = make_request(verified=True)

    # when
    response = client.get(_verify_url(request))

    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/privacy/status/")
