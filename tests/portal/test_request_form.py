"""Filing a request through /privacy/requests/new/."""

from __future__ import annotations

from urllib.parse import unquote

from django.core import mail
from django.test import Client
from django.urls import reverse

from dsr.models import Request
from tests.portal.conftest import form_data


def test_home_page_explains_each_right_and_links_to_the_form(client: Client, db):
    response = client.get(reverse("portal:home"))

    body = response.content.decode()
    assert response.status_code == 200
    for title in (
        "Get a copy of my data",
        "Correct my data",
        "Delete my data",
        "Take my data elsewhere",
        "Pause the use of my data",
        "Stop using my data",
    ):
        assert title in body
    assert reverse("portal:new") in body


def test_form_page_renders_every_field_with_a_label(client: Client, db):
    response = client.get(reverse("portal:new"))

    body = response.content.decode()
    assert response.status_code == 200
    for field_id in ("id_email", "id_phone", "id_details", "id_correction"):
        assert f'for="{field_id}"' in body
    assert "<legend" in body
    assert 'value="rectification"' in body


def test_submission_creates_a_portal_request_and_sends_a_code(client: Client, db):
    # when
    response = client.post(reverse("portal:new"), form_data(), follow=True)

    # then: one unverified request, made by the portal, with the code e-mailed
    request = Request.objects.get()
    assert request.channel == "portal"
    assert request.status == "received"
    assert request.created_by == "system:portal"
    assert request.verified_at is None
    assert request.regime == "gdpr"
    assert [m.to for m in mail.outbox] == [["ada.lovelace@example.com"]]
    assert request.reference in mail.outbox[0].subject
    # and the visitor lands on the verify page, with no address in any URL
    assert response.status_code == 200
    assert response.redirect_chain
    final_url = response.redirect_chain[-1][0]
    assert final_url.startswith("/privacy/verify/")
    for url, _status in response.redirect_chain:
        assert "@" not in unquote(url)
        assert "ada.lovelace" not in unquote(url)
    assert "ada.lovelace@example.com" not in response.content.decode()


def test_residence_picks_the_regime(client: Client, db):
    # when
    client.post(reverse("portal:new"), form_data(residence="uk"))
    client.post(reverse("portal:new"), form_data(residence="california"))

    # then
    assert sorted(Request.objects.values_list("regime", flat=True)) == [
        "ccpa",
        "uk_gdpr",
    ]


def test_rectification_without_a_correction_is_a_field_error_and_nothing_is_created(
    client: Client, db
):
    # when
    response = client.post(
        reverse("portal:new"), form_data(kind="rectification", correction="  ")
    )

    # then
    assert response.status_code == 200
    assert response.context["form"].errors["correction"] == [
        "Say what is wrong and what it should say, so it can be corrected."
    ]
    body = response.content.decode()
    assert 'id="id_correction_error"' in body
    assert 'aria-describedby="id_correction_helptext id_correction_error"' in body
    assert Request.objects.count() == 0
    assert mail.outbox == []


def test_rectification_stores_the_requested_correction(client: Client, db):
    # when
    client.post(
        reverse("portal:new"),
        form_data(kind="rectification", correction="My surname is Lovelace"),
    )

    # then
    request = Request.objects.get()
    assert request.kind == "rectification"
    assert request.corrections == {"requested_correction": "My surname is Lovelace"}


def test_a_correction_typed_for_another_kind_is_a_visible_field_error(
    client: Client, db: None
) -> None:
    # when a correction is sent with another kind (typed, then the kind changed)
    response = client.post(
        reverse("portal:new"), form_data(kind="erasure", correction="typo")
    )

    # then the service's rule refuses it next to the box, which stays shown
    assert response.status_code == 200
    assert response.context["form"].errors["correction"] == [
        "Only a request to correct data takes a correction; leave it empty for "
        "this kind of request."
    ]
    assert "correction-field--error" in response.content.decode()
    assert Request.objects.count() == 0
    assert mail.outbox == []


def test_invalid_email_is_a_field_error(client: Client, db):
    # when
    response = client.post(reverse("portal:new"), form_data(email="not-an-address"))

    # then
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert 'aria-invalid="true"' in response.content.decode()
    assert Request.objects.count() == 0


def test_missing_kind_and_residence_are_field_errors(client: Client, db):
    # when
    response = client.post(reverse("portal:new"), form_data(kind="", residence=""))

    # then
    errors = response.context["form"].errors
    assert errors["kind"] == ["Choose what you would like us to do."]
    assert errors["residence"] == ["Choose where you live."]
    body = response.content.decode()
    assert 'aria-describedby="id_kind_error"' in body
    assert 'aria-describedby="id_residence_helptext id_residence_error"' in body
    assert Request.objects.count() == 0


def test_service_refusal_is_shown_next_to_the_field(client: Client, db):
    # given a phone number the form accepts but the service refuses
    data = form_data(phone="call me maybe")

    # when
    response = client.post(reverse("portal:new"), data)

    # then
    assert response.context["form"].errors["phone"] == ["Not a valid phone number."]
    assert Request.objects.count() == 0
    assert mail.outbox == []
