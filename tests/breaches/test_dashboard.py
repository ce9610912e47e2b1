"""The breach pages: officers write, auditors read, errors sit on their field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from breaches.models import Breach, BreachNotice
from tests.breaches.conftest import FRIDAY_5PM

pytestmark = pytest.mark.django_db
REGISTER = "/dashboard/breaches/"


def _url(breach: Breach, tail: str = "") -> str:
    return f"{REGISTER}{breach.public_id}/{tail}"


def test_the_register_starts_empty_and_is_in_the_nav(officer_client: Client) -> None:
    page = officer_client.get(REGISTER)
    html = page.content.decode()
    assert page.status_code == 200
    assert "No breaches recorded" in html
    assert 'href="/dashboard/breaches/"' in html
    assert "Record a breach" in html


def test_the_register_shows_hours_left_and_warnings(
    officer_client: Client,
    officer: Any,
    make_breach: Callable[..., Breach],
    at: Any,
) -> None:
    calm = make_breach(
        title="Calm one",
        aware_at=FRIDAY_5PM + timedelta(hours=40),
        recorded_at=FRIDAY_5PM + timedelta(hours=41),
    )
    warned = make_breach(title="Warned one")
    at(FRIDAY_5PM + timedelta(hours=50))  # Sunday 19:00

    html = officer_client.get(REGISTER).content.decode()
    detail = officer_client.get(_url(warned)).content.decode()

    assert "22 h 00 min left" in html  # 72 - 50
    assert "62 h 00 min left" in html  # the calm one: 72 - 10
    assert "days--soon" in html
    assert calm.reference in html
    assert "24 hours or less left" in detail
    at(FRIDAY_5PM + timedelta(hours=80))
    officer_client.force_login(officer)  # 30 hours outlive the idle timeout
    assert "8 h 00 min overdue" in officer_client.get(REGISTER).content.decode()


def test_an_officer_records_a_breach_with_field_errors_first(
    officer_client: Client, at: Any
) -> None:
    at(FRIDAY_5PM + timedelta(hours=2))
    form = {
        "title": "Lost laptop",
        "aware_at": "2026-03-06T17:00",  # controller's zone (London, GMT)
        "occurred_at": "2026-03-06T18:00",  # after awareness: refused
        "description": "A support laptop was stolen from a parked car.",
        "risk": "unassessed",
    }
    refused = officer_client.post(f"{REGISTER}new/", form)
    assert refused.status_code == 400
    assert "cannot be after the time you became aware of it" in (
        refused.content.decode()
    )
    assert 'id="id_occurred_at_error"' in refused.content.decode()
    assert not Breach.objects.exists()

    created = officer_client.post(f"{REGISTER}new/", {**form, "occurred_at": ""})
    breach = Breach.objects.get()
    assert created.status_code == 302
    assert created["Location"] == _url(breach)
    assert breach.aware_at == FRIDAY_5PM
    page = officer_client.get(_url(breach)).content.decode()
    assert "Notify by Mon 9 Mar 2026, 17:00" in page
    assert "breach.recorded" in page  # the timeline


def test_a_late_notification_form_shows_the_error_on_the_reason(
    officer_client: Client, make_breach: Callable[..., Breach], at: Any
) -> None:
    breach = make_breach()
    at(FRIDAY_5PM + timedelta(hours=90))
    form = {"notified_at": "2026-03-10T08:00", "reference": "ICO-77"}

    refused = officer_client.post(_url(breach, "notify/"), form)
    html = refused.content.decode()
    assert refused.status_code == 400
    assert 'id="id_late_reason_error"' in html
    assert "give the reasons for the delay" in html
    breach.refresh_from_db()
    assert breach.authority_notified_at is None

    done = officer_client.post(
        _url(breach, "notify/"), {**form, "late_reason": "Found on a bank holiday."}
    )
    assert done.status_code == 302
    breach.refresh_from_db()
    assert breach.authority_reference == "ICO-77"
    assert (
        "Notified 15 h 00 min late" in officer_client.get(_url(breach)).content.decode()
    )


def test_decisions_then_notices_from_the_detail_page(
    officer_client: Client,
    make_breach: Callable[..., Breach],
    django_capture_on_commit_callbacks: Any,
) -> None:
    breach = make_breach(risk="high_risk")
    # the notice form appears only once the decision to tell is recorded
    assert (
        "Tell subjects by e-mail"
        not in officer_client.get(_url(breach)).content.decode()
    )
    missing = officer_client.post(
        _url(breach, "decide/"),
        {"authority_decision": "pending", "subjects_decision": "unintelligible"},
    )
    assert missing.status_code == 400
    assert 'id="id_subjects_decision_reasons_error"' in missing.content.decode()
    decided = officer_client.post(
        _url(breach, "decide/"),
        {"authority_decision": "notify", "subjects_decision": "notify"},
    )
    assert decided.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        sent = officer_client.post(
            _url(breach, "notices/"), {"addresses": "ada@example.org"}
        )
    assert sent.status_code == 302
    page = officer_client.get(_url(breach)).content.decode()
    notice = BreachNotice.objects.get()
    assert notice.status == "sent"
    assert notice.recipient_label in page
    assert "ada@example.org" not in page


def test_an_auditor_reads_and_downloads_but_cannot_change(
    auditor_client: Client, make_breach: Callable[..., Breach]
) -> None:
    breach = make_breach()
    events = AuditEvent.objects.count()

    assert auditor_client.get(REGISTER).status_code == 200
    detail = auditor_client.get(_url(breach)).content.decode()
    assert "Record the notification" not in detail
    assert auditor_client.get(f"{REGISTER}new/").status_code == 403
    refused = auditor_client.post(
        _url(breach, "notify/"),
        {"notified_at": "2026-03-06T18:00", "reference": "X-1"},
    )
    assert refused.status_code == 403
    breach.refresh_from_db()
    assert breach.authority_notified_at is None
    assert AuditEvent.objects.count() == events

    pdf = auditor_client.get(_url(breach, "evidence.pdf"))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].endswith(f'{breach.reference}-evidence.pdf"')


def test_a_support_agent_does_not_see_the_register(
    agent_client: Client, make_breach: Callable[..., Breach]
) -> None:
    breach = make_breach()
    assert agent_client.get(REGISTER).status_code == 403
    assert agent_client.get(_url(breach)).status_code == 403
    assert (
        'href="/dashboard/breaches/"'
        not in agent_client.get("/dashboard/").content.decode()
    )
