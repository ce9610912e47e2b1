"""GDPR Art. 19 / CCPA-REG §7022(b) (REQUIREMENTS B29): when a rectification,
erasure or restriction closes, every recipient in the stores' disclosures is
told by its method and each step is logged; the subject is told who they
were; the evidence pack lists them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.urls import reverse

from accounts.actors import actor_system
from audit.models import AuditEvent
from connectors.choices import Action
from connectors.disclosure import (
    recipient_notify_method,
    store_recipients,
)
from connectors.models import Connector
from connectors.services import connector_create
from dsr.choices import RequestStatus, TaskStatus
from dsr.links import status_token
from dsr.models import RecipientNotification, Request, RequestTask
from dsr.services.execution.staff import task_manual_done, task_skip
from dsr.tasks import send_recipient_notification_task
from evidence.services import evidence_pack_generate
from privacydesk.errors import ValidationFailed
from tests.disclosure import CATEGORIES, DISCLOSURE
from tests.evidence.pack_helpers import embedded, flat_text, shows

SYSTEM = actor_system("tests")

BILLING_RECIPIENTS: list[Any] = [
    {
        "name": "Acme Payments BV",
        "role": "processor",
        "notify": "email",
        "contact": "privacy@acme-payments.example",
    },
    {"name": "Ledger Archive GmbH", "role": "processor"},  # default: manual
    {
        "category": "parcel couriers",
        "reason": "impossible",
        "explanation": "the warehouse picks one per parcel",
        "impossible_reason": "No record is kept of which courier carried a parcel.",
    },
]
CRM_RECIPIENTS: list[Any] = [
    {"name": "Helpdesk Cloud Ltd", "role": "processor", "notify": "connector"},
]


def _store(name: str, recipients: list[Any]) -> Connector:
    disclosure = copy.deepcopy(DISCLOSURE)
    disclosure["recipients"] = recipients
    return connector_create(
        actor=SYSTEM,
        name=name,
        kind="manual",
        config={"instructions": f"Find the customer in {name}."},
        data_categories=CATEGORIES,
        disclosure=disclosure,
    )


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def officer_client(officer: Any) -> Client:
    client = Client()
    client.force_login(officer)
    return client


@pytest.fixture
def auditor_client(auditor: Any) -> Client:
    client = Client()
    client.force_login(auditor)
    return client


@pytest.fixture
def billing(db: Any) -> Connector:
    return _store("billing", BILLING_RECIPIENTS)


@pytest.fixture
def crm(db: Any) -> Connector:
    return _store("crm", CRM_RECIPIENTS)


def _finish_every_task(request: Request, officer_actor: Any, capture: Any) -> None:
    """Do each store's work by hand, as the manual kind's officer would,
    until the request closes (erasure: then the verification pass)."""
    for _ in range(4):
        waiting = list(
            RequestTask.objects.filter(request=request, status=TaskStatus.WAITING)
        )
        if not waiting:
            break
        for task in waiting:
            with capture(execute=True):
                task_manual_done(
                    actor=officer_actor, task=task, note="Done in the store by hand"
                )
    request.refresh_from_db()


def _closed(
    make_request: Any, officer_actor: Any, capture: Any, **overrides: Any
) -> Request:
    params = {
        "kind": "erasure",
        "verified": True,
        "identity": {"email": "grace.hopper@example.org"},
        **overrides,
    }
    with capture(execute=True):
        request = make_request(**params)
    _finish_every_task(request, officer_actor, capture)
    return request


def _by_name(request: Request) -> dict[str, RecipientNotification]:
    return {
        n.recipient_name: n
        for n in RecipientNotification.objects.filter(request=request)
    }


def _actions(request: Request) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=str(request.public_id))
        .order_by("sequence")
        .values_list("action", flat=True)
    )


# --- the lifecycle -----------------------------------------------------------------


def test_a_completed_erasure_tells_each_recipient_by_its_method(
    billing: Connector,
    crm: Connector,
    make_request: Any,
    officer_actor: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # when an erasure is done in both stores
    request = _closed(make_request, officer_actor, django_capture_on_commit_callbacks)

    # then every recipient of both stores has its notification, by its method
    assert request.status == RequestStatus.COMPLETED
    rows = _by_name(request)
    assert set(rows) == {
        "Acme Payments BV",
        "Ledger Archive GmbH",
        "parcel couriers",
        "Helpdesk Cloud Ltd",
    }
    email = rows["Acme Payments BV"]
    assert (email.method, email.status, email.attempts) == ("email", "sent", 1)
    assert email.status_at is not None
    manual = rows["Ledger Archive GmbH"]
    assert (manual.method, manual.status, manual.status_at) == (
        "manual",
        "pending",
        None,
    )
    couriers = rows["parcel couriers"]
    assert couriers.status == "impossible"
    assert not couriers.named
    assert couriers.justification.startswith("No record is kept")
    connector = rows["Helpdesk Cloud Ltd"]
    assert (connector.method, connector.status) == ("connector", "done")
    erase_task = RequestTask.objects.get(
        request=request, connector=crm, action=Action.ERASE
    )
    assert connector.status_at == erase_task.finished_at
    assert str(erase_task.public_id) in connector.note

    # and the recipient's e-mail says what to do and who the person is
    to_acme = [m for m in mail.outbox if m.to == ["privacy@acme-payments.example"]]
    assert len(to_acme) == 1
    assert request.reference in to_acme[0].subject
    assert "Please erase" in to_acme[0].body
    assert "grace.hopper@example.org" in to_acme[0].body

    # and the subject's closing e-mail names the recipients and their state
    to_subject = [m for m in mail.outbox if m.to == ["grace.hopper@example.org"]]
    closing = to_subject[-1].body
    assert "Acme Payments BV (told)" in closing
    assert "Ledger Archive GmbH (being told)" in closing
    assert "Helpdesk Cloud Ltd (told)" in closing
    assert 'category "parcel couriers" (telling them is impossible' in closing

    # and each step is in the audit chain, no address in it
    actions = _actions(request)
    assert actions.index("request.closed") < actions.index("request.recipients_planned")
    assert "request.recipient_notified" in actions
    planned = AuditEvent.objects.get(
        object_id=str(request.public_id), action="request.recipients_planned"
    )
    assert len(planned.data["notifications"]) == 4
    assert "acme-payments.example" not in str(planned.data)


@pytest.mark.parametrize("kind", ["rectification", "restriction"])
def test_a_rectification_or_restriction_tells_recipients_too(
    kind: str,
    billing: Connector,
    make_request: Any,
    officer_actor: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    extra = (
        {"corrections": {"postal_address": "1 New Street"}}
        if kind == "rectification"
        else {}
    )
    request = _closed(
        make_request,
        officer_actor,
        django_capture_on_commit_callbacks,
        kind=kind,
        **extra,
    )
    assert request.status == RequestStatus.COMPLETED
    assert set(_by_name(request)) == {
        "Acme Payments BV",
        "Ledger Archive GmbH",
        "parcel couriers",
    }
    [to_acme] = [m for m in mail.outbox if m.to == ["privacy@acme-payments.example"]]
    if kind == "rectification":
        assert "Please correct" in to_acme.body
        assert "postal_address: 1 New Street" in to_acme.body
    else:
        assert "Please restrict" in to_acme.body


def test_an_access_request_tells_no_recipient(
    billing: Connector,
    make_request: Any,
    officer_actor: Any,
    django_capture_on_commit_callbacks: Any,
    media: Path,
) -> None:
    request = _closed(
        make_request, officer_actor, django_capture_on_commit_callbacks, kind="access"
    )
    assert request.status in (RequestStatus.COMPLETED, RequestStatus.IN_PROGRESS)
    assert not RecipientNotification.objects.filter(request=request).exists()
    assert "privacy@acme-payments.example" not in [m.to[0] for m in mail.outbox]


def test_only_the_recipients_of_stores_where_the_change_was_made_are_told(
    billing: Connector,
    crm: Connector,
    make_request: Any,
    officer_actor: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given an erasure whose billing store is exempted (nothing erased there)
    with django_capture_on_commit_callbacks(execute=True):
        request = make_request(kind="erasure", verified=True)
    billing_task = RequestTask.objects.get(
        request=request, connector=billing, action=Action.ERASE
    )
    with django_capture_on_commit_callbacks(execute=True):
        task_skip(
            actor=officer_actor,
            task=billing_task,
            reason="Invoices must be kept for tax law",
            basis="GDPR 17(3)(b) legal obligation",
        )
    _finish_every_task(request, officer_actor, django_capture_on_commit_callbacks)

    # then only the crm's recipient is told
    assert request.status == RequestStatus.COMPLETED
    assert set(_by_name(request)) == {"Helpdesk Cloud Ltd"}


def test_a_refused_email_stays_to_do_and_is_sent_on_a_later_try(
    billing: Connector,
    make_request: Any,
    officer_actor: Any,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    def refused(*args: object, **kwargs: object) -> int:
        raise ConnectionRefusedError("mail server down")

    # given a mail server that refuses every message while the request closes
    with mock.patch.object(EmailMultiAlternatives, "send", refused):
        request = _closed(
            make_request, officer_actor, django_capture_on_commit_callbacks
        )
    row = _by_name(request)["Acme Payments BV"]
    # then it is still to do, every try counted, the error named without data
    assert row.status == "pending"
    assert row.attempts == 1 + send_recipient_notification_task.max_retries
    assert row.last_error == "mail server: ConnectionRefusedError"
    assert "request.recipient_notified" not in _actions(request)

    # when the server is back, a try sends it, and a second delivery is a no-op
    assert send_recipient_notification_task.apply(args=[row.pk]).get() == "sent"
    assert send_recipient_notification_task.apply(args=[row.pk]).get() == "already"
    row.refresh_from_db()
    assert row.status == "sent"
    assert [m.to for m in mail.outbox].count(["privacy@acme-payments.example"]) == 1


# --- the officer's page ---------------------------------------------------------


def _mark_url(request: Request, row: RecipientNotification, status: str) -> str:
    return reverse(
        "dashboard:recipient_mark", args=[request.public_id, row.public_id, status]
    )


def test_the_officer_records_a_manual_step_on_the_request_page(
    billing: Connector,
    make_request: Any,
    officer_actor: Any,
    officer_client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    request = _closed(make_request, officer_actor, django_capture_on_commit_callbacks)
    row = _by_name(request)["Ledger Archive GmbH"]
    detail = reverse("dashboard:request_detail", args=[request.public_id])

    # the page shows it as a to-do with its forms
    page = officer_client.get(detail).content.decode()
    assert "Recipients told (GDPR Art. 19)" in page
    assert "1 to do" in page
    assert _mark_url(request, row, "done") in page

    # when the officer records the step
    response = officer_client.post(
        _mark_url(request, row, "done"),
        {f"done-{row.public_id.hex}-note": "Letter sent 3 May, their ref. L-88"},
    )
    # then
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == "done"
    assert row.note == "Letter sent 3 May, their ref. L-88"
    assert row.status_by == officer_actor.ref
    recorded = AuditEvent.objects.get(
        object_id=str(request.public_id),
        action="request.recipient_notification_recorded",
    )
    assert recorded.data["status"] == "done"
    assert "0 to do" not in officer_client.get(detail).content.decode()

    # and it cannot be recorded twice
    again = officer_client.post(
        _mark_url(request, row, "impossible"),
        {f"impossible-{row.public_id.hex}-justification": "Company dissolved in 2020"},
        follow=True,
    )
    assert "already done" in again.content.decode()
    row.refresh_from_db()
    assert row.status == "done"


def test_impossible_needs_a_written_justification(
    billing: Connector,
    make_request: Any,
    officer_actor: Any,
    officer_client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    request = _closed(make_request, officer_actor, django_capture_on_commit_callbacks)
    row = _by_name(request)["Ledger Archive GmbH"]
    field = f"impossible-{row.public_id.hex}-justification"

    refused = officer_client.post(
        _mark_url(request, row, "impossible"), {field: "  "}, follow=True
    )
    assert "Not recorded" in refused.content.decode()
    row.refresh_from_db()
    assert (row.status, row.justification) == ("pending", "")

    officer_client.post(
        _mark_url(request, row, "impossible"),
        {field: "The company was dissolved; no successor holds the data."},
    )
    row.refresh_from_db()
    assert row.status == "impossible"
    assert (
        row.justification == "The company was dissolved; no successor holds the data."
    )


def test_an_auditor_cannot_record_a_step(
    billing: Connector,
    make_request: Any,
    officer_actor: Any,
    auditor_client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    request = _closed(make_request, officer_actor, django_capture_on_commit_callbacks)
    row = _by_name(request)["Ledger Archive GmbH"]
    page = auditor_client.get(
        reverse("dashboard:request_detail", args=[request.public_id])
    ).content.decode()
    assert "Ledger Archive GmbH" in page
    assert _mark_url(request, row, "done") not in page

    response = auditor_client.post(
        _mark_url(request, row, "done"), {f"done-{row.public_id.hex}-note": "x"}
    )
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.status == "pending"


# --- the subject and the evidence -----------------------------------------------


def test_the_subjects_status_page_lists_the_recipients(
    billing: Connector,
    make_request: Any,
    officer_actor: Any,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    request = _closed(make_request, officer_actor, django_capture_on_commit_callbacks)
    page = client.get(
        reverse("portal:status", args=[status_token(str(request.public_id))])
    ).content.decode()
    assert "Who else we told" in page
    assert "Acme Payments BV" in page
    assert "Ledger Archive GmbH" in page
    assert "Recipients of the category “parcel couriers”" in page
    # addresses are the company's business, not the subject's page
    assert "acme-payments.example" not in page


def test_the_evidence_pack_lists_each_notification(
    billing: Connector,
    make_request: Any,
    officer_actor: Any,
    django_capture_on_commit_callbacks: Any,
    media: Path,
) -> None:
    request = _closed(make_request, officer_actor, django_capture_on_commit_callbacks)
    result = evidence_pack_generate(actor=SYSTEM, request=request)
    content = result.content
    facts = embedded(content)["facts"]
    listed = {n["recipient"]: n for n in facts["recipient_notifications"]}
    assert set(listed) == {"Acme Payments BV", "Ledger Archive GmbH", "parcel couriers"}
    assert listed["Acme Payments BV"]["method"] == "email"
    assert listed["Acme Payments BV"]["status"] == "sent"
    assert listed["Acme Payments BV"]["at"]
    assert listed["parcel couriers"]["justification"].startswith("No record")
    assert "privacy@acme-payments.example" not in str(facts["recipient_notifications"])
    flat = flat_text(content)
    assert shows(flat, "Recipients notified (GDPR Art. 19")
    assert not shows(flat, "None recorded for this request")


def test_an_erasure_with_no_recipient_says_none_recorded(
    make_request: Any,
    officer_actor: Any,
    django_capture_on_commit_callbacks: Any,
    media: Path,
) -> None:
    _store("notes", [{"category": "nobody", "reason": "impossible"}])
    Connector.objects.filter(name="notes").update(
        disclosure={**DISCLOSURE, "recipients": {"not_applicable": "never shared"}}
    )
    request = _closed(make_request, officer_actor, django_capture_on_commit_callbacks)
    assert request.status == RequestStatus.COMPLETED
    result = evidence_pack_generate(actor=SYSTEM, request=request)
    content = result.content
    assert embedded(content)["facts"]["recipient_notifications"] == []
    assert shows(flat_text(content), "None recorded for this request")


# --- the disclosure's fields --------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "path"),
    [
        ({"name": "X Ltd", "notify": "fax"}, "disclosure.recipients[0].notify"),
        ({"name": "X Ltd", "notify": "email"}, "disclosure.recipients[0].contact"),
        (
            {"name": "X Ltd", "notify": "email", "contact": "not-an-address"},
            "disclosure.recipients[0].contact",
        ),
        (
            {"name": "X Ltd", "contact": "a@b.example"},
            "disclosure.recipients[0].contact",
        ),
        (
            {"name": "X Ltd", "impossible_reason": " "},
            "disclosure.recipients[0].impossible_reason",
        ),
    ],
)
def test_a_store_with_an_unclear_notification_is_refused_naming_the_field(
    db: Any, entry: dict[str, Any], path: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _store("refused", [entry])
    assert refused.value.field == path
    assert not Connector.objects.filter(name="refused").exists()


def test_the_connector_api_refuses_an_unclear_notification(
    db: Any, make_api_client: Any
) -> None:
    _, http = make_api_client("connectors:write")
    disclosure = copy.deepcopy(DISCLOSURE)
    disclosure["recipients"] = [{"name": "X Ltd", "notify": "pigeon"}]
    response = http.post(
        "/api/v1/connectors/",
        {
            "name": "pigeons",
            "kind": "manual",
            "config": {"instructions": "Look it up."},
            "data_categories": CATEGORIES,
            "disclosure": disclosure,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "disclosure.recipients[0].notify" in str(response.json())
    assert not Connector.objects.filter(name="pigeons").exists()


def test_old_disclosures_stay_valid_and_get_a_default_method() -> None:
    recipients = store_recipients(
        disclosure={
            "recipients": [
                "Helpdesk Cloud Ltd (hosting, our processor)",
                {"name": "Zendesk Inc.", "role": "processor"},
                {"name": "Ad Partner", "role": "third party"},
            ]
        }
    )
    plain, processor, third = recipients
    # a processor reached through a SaaS (or OpenDSR) connector: its task
    assert recipient_notify_method(processor, kind="zendesk") == "connector"
    assert recipient_notify_method(processor, kind="opendsr") == "connector"
    # anything else: a step an officer records
    assert recipient_notify_method(processor, kind="sql") == "manual"
    assert recipient_notify_method(third, kind="zendesk") == "manual"
    assert recipient_notify_method(plain, kind="zendesk") == "manual"
