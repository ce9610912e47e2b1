"""The audit log page and its chain-status box."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent

AUDIT = reverse("dashboard:audit_log")


def test_audit_log_lists_events_and_an_intact_chain(
    officer_client: Client, make_request
) -> None:
    dsr = make_request()
    event = AuditEvent.objects.get(action="request.received")

    response = officer_client.get(AUDIT)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Chain intact" in page
    assert event.hash in page  # the head hash, in full
    assert event.hash[:12] in page
    assert "request.received" in page
    assert "system (tests)" in page
    assert reverse("dashboard:request_detail", args=[dsr.public_id]) in page


def test_audit_log_shows_broken_chain_when_an_event_is_altered(
    auditor_client: Client, make_request
) -> None:
    # given three events, the second altered behind the application's back
    make_request()
    make_request()
    make_request()
    victim = AuditEvent.objects.order_by("sequence")[1]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only"
            )
        cursor.execute(
            "UPDATE audit_auditevent SET action = %s WHERE id = %s",
            ["request.tampered", victim.pk],
        )
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only"
            )

    # when
    response = auditor_client.get(AUDIT)

    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert f"Chain BROKEN at #{victim.sequence}" in page
    assert "was altered" in page
    assert "Chain intact" not in page


def test_support_agent_cannot_see_the_audit_log(agent_client: Client, db: None):
    response = agent_client.get(AUDIT)

    assert response.status_code == 403
    assert b"audit view" in response.content


def test_audit_log_paginates(officer_client: Client, officer_actor) -> None:
    from audit.services import audit_record

    for _ in range(60):
        audit_record(actor=officer_actor, action="test.event", obj=None)

    first = officer_client.get(AUDIT)
    second = officer_client.get(AUDIT, {"page": "2"})

    assert len(first.context["rows"]) == 50
    assert first.context["rows"][0][0].sequence == 60  # newest first
    assert len(second.context["rows"]) == 10
