"""Entering a request that came by post, e-mail or phone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from dsr.models import Request

NEW = reverse("dashboard:request_new")


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "kind": "access",
        "regime": "gdpr",
        "email": "grace.hopper@example.com",
        "phone": "",
        "customer_system": "",
        "customer_id": "",
        "details": "Letter asking for a copy of her chat history.",
        "corrections": "",
        "received_at": "2026-01-05T10:00",
    }
    data.update(overrides)
    return data


def test_new_request_form_renders_with_now_as_default(agent_client: Client) -> None:
    with time_machine.travel(datetime(2026, 7, 1, 8, 30, tzinfo=UTC), tick=False):
        response = agent_client.get(NEW)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter a request" in page
    assert 'type="datetime-local"' in page
    # 08:30 UTC is 09:30 in London in summer: the form speaks local time.
    assert 'value="2026-07-01T09:30"' in page
    assert "Identity already checked" in page


def test_create_request_with_past_received_at_computes_due_date_from_it(
    agent_client: Client, agent: User
) -> None:
    # given a letter received on Mon 5 Jan 2026, entered two weeks later
    with time_machine.travel(datetime(2026, 1, 19, 9, 0, tzinfo=UTC), tick=False):
        # when
        response = agent_client.post(NEW, _form(identity_checked="on"))

    # then
    dsr = Request.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "dashboard:request_detail", args=[dsr.public_id]
    )
    assert dsr.channel == "dashboard"
    assert dsr.received_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert dsr.clock_start_on == date(2026, 1, 5)
    assert dsr.due_on == date(2026, 2, 5)
    assert dsr.status == "in_progress"
    assert dsr.verification_method == "staff_checked"
    assert dsr.created_by == f"user:{agent.pk}"
    assert AuditEvent.objects.filter(action="request.received").count() == 1


def test_received_at_is_read_in_the_controller_time_zone(agent_client: Client):
    # 00:30 on 1 July in London (BST) is 23:30 UTC on 30 June; it counts on
    # the controller's day, 1 July.
    with time_machine.travel(datetime(2026, 7, 10, 9, 0, tzinfo=UTC), tick=False):
        agent_client.post(NEW, _form(received_at="2026-07-01T00:30"))

    dsr = Request.objects.get()
    assert dsr.received_at == datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    assert dsr.clock_start_on >= date(2026, 7, 1)


def test_create_rectification_stores_the_requested_correction(
    officer_client: Client,
) -> None:
    response = officer_client.post(
        NEW,
        _form(
            kind="rectification",
            corrections="My surname is Hopper, not Hoper.",
            received_at="",
        ),
    )

    assert response.status_code == 200  # received_at is required
    assert Request.objects.count() == 0

    response = officer_client.post(
        NEW,
        _form(kind="rectification", corrections="My surname is Hopper, not Hoper."),
    )

    dsr = Request.objects.get()
    assert response.status_code == 302
    assert dsr.corrections == {
        "requested_correction": "My surname is Hopper, not Hoper."
    }
    assert dsr.status == "received"  # identity not checked yet


def test_rectification_without_a_correction_is_a_field_error(
    officer_client: Client,
) -> None:
    response = officer_client.post(NEW, _form(kind="rectification"))

    assert response.status_code == 200
    assert response.context["form"].errors["corrections"] == [
        "say what is wrong and what it should say, so it can be corrected"
    ]
    assert Request.objects.count() == 0


def test_a_correction_for_another_kind_is_a_field_error(officer_client: Client):
    # when staff send a correction with an access request
    response = officer_client.post(NEW, _form(kind="access", corrections="typo"))

    # then the service's rule refuses it on the field, as in the portal
    assert response.status_code == 200
    assert response.context["form"].errors["corrections"] == [
        "only a request to correct data takes a correction; leave it empty for "
        "this kind of request"
    ]
    assert Request.objects.count() == 0
    assert not AuditEvent.objects.exists()


def test_service_errors_are_shown_on_the_matching_field(officer_client: Client):
    response = officer_client.post(NEW, _form(email="not-an-address"))

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["email"] == ["not a valid e-mail address"]
    assert Request.objects.count() == 0


def test_received_in_the_future_is_a_field_error(officer_client: Client) -> None:
    with time_machine.travel(datetime(2026, 1, 19, 9, 0, tzinfo=UTC), tick=False):
        response = officer_client.post(NEW, _form(received_at="2026-02-01T10:00"))

    assert "received_at" in response.context["form"].errors
    assert Request.objects.count() == 0


def test_no_identifier_at_all_is_refused(officer_client: Client) -> None:
    response = officer_client.post(NEW, _form(email=""))

    assert response.context["form"].errors
    assert "give at least one of" in response.content.decode()
    assert Request.objects.count() == 0


def test_customer_id_needs_its_system(officer_client: Client) -> None:
    response = officer_client.post(NEW, _form(email="", customer_id="C-1001"))

    assert "customer_system" in response.context["form"].errors
    assert Request.objects.count() == 0

    officer_client.post(
        NEW, _form(email="", customer_system="crm", customer_id="C-1001")
    )

    assert Request.objects.get().identity == {"customer_ids": {"crm": "C-1001"}}


def test_auditor_cannot_enter_requests(auditor_client: Client) -> None:
    page = auditor_client.get(NEW)
    response = auditor_client.post(NEW, _form())

    assert page.status_code == 403
    assert response.status_code == 403
    assert Request.objects.count() == 0
