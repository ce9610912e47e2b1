"""The requests API end to end over HTTP, against the real database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from audit.models import AuditEvent
from dsr.models import Request
from subjects.models import DataSubject

URL = "/api/v1/requests/"
ALL_SCOPES = ("requests:read", "requests:write", "requests:verify", "requests:manage")

MakeClient = Callable[..., tuple[Any, APIClient]]


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "access",
        "regime": "gdpr",
        "identity": {"email": "ada@example.com"},
    }
    body.update(overrides)
    return body


def _url(request: Request | str, action: str = "") -> str:
    public_id = request if isinstance(request, str) else request.public_id
    return f"{URL}{public_id}/{action + '/' if action else ''}"


def _ids(response: Any) -> set[str]:
    return {row["id"] for row in response.json()["results"]}


def _actions(request: Request) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            object_type="dsr.request", object_id=str(request.public_id)
        ).values_list("action", flat=True)
    )


# --- Create -----------------------------------------------------------------


@pytest.mark.django_db
def test_create_returns_the_request_and_its_legal_clock(make_api_client: MakeClient):
    # given a client that may record the real receipt time
    _, http = make_api_client("requests:write", "requests:verify")

    # when a request received on 31 January is recorded three weeks later
    with time_machine.travel(_at(2025, 2, 20, 9), tick=False):
        response = http.post(
            URL,
            _body(
                received_at="2025-01-31T10:00:00Z",
                details="Everything you hold from the chatbot, please.",
            ),
            format="json",
        )

    # then it runs one month from receipt (28 Feb 2025 is a Friday)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert set(data) >= {
        "id",
        "reference",
        "kind",
        "regime",
        "channel",
        "status",
        "received_at",
        "due_on",
        "due_at",
        "standard_due_on",
        "extension_notice_by",
        "acknowledge_by",
        "extended",
        "extension_reason",
        "verified_at",
        "verification_method",
        "requires_approval",
        "status_reason",
        "closed_at",
        "pauses",
        "days_left",
    }
    assert data["channel"] == "api"
    assert data["status"] == "received"
    assert data["kind"] == "access"
    assert data["received_at"] == "2025-01-31T10:00:00Z"
    assert data["due_on"] == "2025-02-28"
    assert data["due_at"] == "2025-02-28T23:59:59+00:00"
    assert data["standard_due_on"] == "2025-02-28"
    assert data["extension_notice_by"] == "2025-02-28"
    assert data["acknowledge_by"] is None
    assert data["extended"] is False
    assert data["verified_at"] is None
    assert data["verification_method"] is None
    assert data["days_left"] == 8
    assert [p["reason"] for p in data["pauses"]] == ["identity"]
    assert data["reference"].startswith("DSR-2025-")
    request = Request.objects.get(public_id=data["id"])
    assert request.channel == "api"
    assert "request.received" in _actions(request)
    # and no personal data comes back
    assert "ada@example.com" not in response.content.decode()
    assert "chatbot" not in response.content.decode()
    assert "identity" not in data
    assert "details" not in data
    assert "corrections" not in data


@pytest.mark.django_db
def test_create_with_verified_starts_work_vouched_by_the_client(
    make_api_client: MakeClient,
):
    # given a client trusted to vouch for the requester
    _, http = make_api_client("requests:write", "requests:verify")

    # when it records a verified request
    response = http.post(URL, _body(verified=True), format="json")

    # then the request is verified and under way, with no identity pause
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "in_progress"
    assert data["verification_method"] == "api_vouched"
    assert data["verified_at"] is not None
    assert data["pauses"] == []


@pytest.mark.django_db
def test_create_rectification_shows_correction_names_not_values(
    make_api_client: MakeClient,
):
    _, http = make_api_client("requests:write", "requests:read")

    response = http.post(
        URL,
        _body(kind="rectification", corrections={"surname": "Lovelace-King"}),
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["correction_fields"] == ["surname"]
    assert "Lovelace-King" not in response.content.decode()
    detail = http.get(_url(response.json()["id"]))
    assert detail.json()["correction_fields"] == ["surname"]
    assert "Lovelace-King" not in detail.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"kind": "telepathy"}, "kind", id="bad-kind"),
        pytest.param({"regime": "mars"}, "regime", id="bad-regime"),
        pytest.param(
            {"identity": {"email": "not-an-email"}}, "identity.email", id="email"
        ),
        pytest.param({"identity": "ada@example.com"}, "identity", id="identity-shape"),
        pytest.param({"identity": {}}, "identity", id="identity-empty"),
        pytest.param({"colour": "blue"}, "colour", id="unknown-field"),
        pytest.param(
            {"received_at": "2025-01-31T10:00:00"},
            "received_at",
            id="naive-received-at",
        ),
        pytest.param(
            {"received_at": "2999-01-31T10:00:00Z"}, "received_at", id="future-received"
        ),
        pytest.param({"kind": "rectification"}, "corrections", id="no-corrections"),
        pytest.param(
            {"kind": "access", "corrections": {"name": "Ada"}},
            "corrections",
            id="stray-corrections",
        ),
        pytest.param({"verified": "perhaps"}, "verified", id="bad-boolean"),
    ],
)
@pytest.mark.django_db
def test_create_rejects_bad_input_naming_the_field(
    make_api_client: MakeClient, overrides: dict[str, Any], field: str
):
    # given a client with every scope, so only the input can be at fault
    _, http = make_api_client(*ALL_SCOPES)

    # when the body is wrong in one place
    response = http.post(URL, _body(**overrides), format="json")

    # then a 400 names that place and nothing was written
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["error"] == "invalid"
    assert field in body["errors"], body
    assert Request.objects.count() == 0
    assert DataSubject.objects.count() == 0


@pytest.mark.django_db
def test_create_without_a_token_is_401():
    response = APIClient().post(URL, _body(), format="json")

    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"
    assert Request.objects.count() == 0


@pytest.mark.django_db
def test_create_with_a_bad_token_is_401():
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-token")

    response = http.post(URL, _body(), format="json")

    assert response.status_code == 401
    assert Request.objects.count() == 0


@pytest.mark.django_db
def test_create_without_the_write_scope_is_403_and_creates_nothing(
    make_api_client: MakeClient,
):
    _, http = make_api_client("requests:read")

    response = http.post(URL, _body(), format="json")

    assert response.status_code == 403
    assert "requests:write" in response.json()["detail"]
    assert Request.objects.count() == 0
    assert DataSubject.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        pytest.param({"received_at": "2025-01-31T10:00:00Z"}, "received_at", id="time"),
        pytest.param({"verified": True}, "verify", id="verified"),
    ],
)
@pytest.mark.django_db
def test_create_trusted_fields_need_the_verify_scope(
    make_api_client: MakeClient, overrides: dict[str, Any], named: str
):
    # given a client that may only record requests
    _, http = make_api_client("requests:write")
    events_before = AuditEvent.objects.count()

    # when it sets a field only a trusted system may set
    response = http.post(URL, _body(**overrides), format="json")

    # then it is refused and nothing was written
    assert response.status_code == 403, response.json()
    assert response.json()["error"] == "permission_denied"
    assert named in response.json()["detail"]
    assert Request.objects.count() == 0
    assert DataSubject.objects.count() == 0
    assert AuditEvent.objects.count() == events_before


# --- List and detail --------------------------------------------------------


@pytest.mark.django_db
def test_list_hides_personal_data_and_filters_by_status_kind_and_regime(
    make_api_client: MakeClient, make_request: Callable[..., Request]
):
    # given requests of different kinds, regimes and statuses
    access = make_request()
    erasure = make_request(kind="erasure", regime="ccpa", verified=True)
    rectification = make_request(
        kind="rectification", regime="uk_gdpr", corrections={"name": "Ada King"}
    )
    _, http = make_api_client("requests:read")

    # when listing
    everything = http.get(URL)
    received = http.get(URL, {"status": "received"})
    erasures = http.get(URL, {"kind": "erasure"})
    uk = http.get(URL, {"regime": "uk_gdpr"})
    by_reference = http.get(URL, {"search": access.reference})

    # then
    assert everything.status_code == 200
    assert everything.json()["count"] == 3
    text = everything.content.decode()
    assert "ada.lovelace@example.com" not in text
    assert "Ada King" not in text
    assert "correction_fields" not in text
    assert _ids(received) == {str(access.public_id), str(rectification.public_id)}
    assert _ids(erasures) == {str(erasure.public_id)}
    assert _ids(uk) == {str(rectification.public_id)}
    assert _ids(by_reference) == {str(access.public_id)}


@pytest.mark.django_db
def test_list_flags_overdue_and_due_soon_requests(
    make_api_client: MakeClient, make_request: Callable[..., Request]
):
    # given a request received 31 Jan (due Fri 28 Feb), one received
    # 20 Feb (due Thu 20 Mar) and a rejected one that would be overdue
    with time_machine.travel(_at(2025, 1, 31, 10), tick=False):
        late = make_request(verified=True)
        rejected = make_request(verified=True)
    with time_machine.travel(_at(2025, 2, 20, 10), tick=False):
        recent = make_request(verified=True)
    _, http = make_api_client("requests:read", "requests:manage")
    http.post(
        _url(rejected, "reject"),
        {"reason": "Manifestly unfounded, see notes"},
        format="json",
    )

    # when it is 5 March
    with time_machine.travel(_at(2025, 3, 5, 12), tick=False):
        overdue = http.get(URL, {"overdue": "true"})
        not_overdue = http.get(URL, {"overdue": "false"})
        within_14 = http.get(URL, {"due_within": "14"})
        within_15 = http.get(URL, {"due_within": 15})

    # then only open requests count, overdue ones included in "due within"
    assert overdue.status_code == 200
    assert _ids(overdue) == {str(late.public_id)}
    assert overdue.json()["results"][0]["days_left"] == -5
    assert not_overdue.json()["count"] == 3
    assert _ids(within_14) == {str(late.public_id)}
    assert _ids(within_15) == {str(late.public_id), str(recent.public_id)}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"status": "lost"}, "status", id="status"),
        pytest.param({"kind": "telepathy"}, "kind", id="kind"),
        pytest.param({"regime": "mars"}, "regime", id="regime"),
        pytest.param({"due_within": "soon"}, "due_within", id="due-within-text"),
        pytest.param({"due_within": "-1"}, "due_within", id="due-within-negative"),
        pytest.param({"overdue": "perhaps"}, "overdue", id="overdue"),
    ],
)
@pytest.mark.django_db
def test_list_rejects_a_bad_filter_naming_it(
    make_api_client: MakeClient, params: dict[str, str], field: str
):
    _, http = make_api_client("requests:read")

    response = http.get(URL, params)

    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.django_db
def test_list_is_paginated_by_limit_and_offset(
    make_api_client: MakeClient, make_request: Callable[..., Request]
):
    for _ in range(3):
        make_request()
    _, http = make_api_client("requests:read")

    first = http.get(URL, {"limit": 2})
    last = http.get(URL, {"limit": 2, "offset": 2})

    assert first.json()["count"] == 3
    assert len(first.json()["results"]) == 2
    assert first.json()["next"] is not None
    assert len(last.json()["results"]) == 1
    assert last.json()["next"] is None
    seen = {row["id"] for row in first.json()["results"] + last.json()["results"]}
    assert len(seen) == 3


@pytest.mark.django_db
def test_list_needs_the_read_scope(
    make_api_client: MakeClient, make_request: Callable[..., Request]
):
    make_request()
    _, http = make_api_client("requests:write")

    response = http.get(URL)

    assert response.status_code == 403
    assert "requests:read" in response.json()["detail"]


@pytest.mark.django_db
def test_get_returns_one_request(
    make_api_client: MakeClient, make_request: Callable[..., Request]
):
    request = make_request()
    _, http = make_api_client("requests:read")

    response = http.get(_url(request))

    assert response.status_code == 200
    assert response.json()["id"] == str(request.public_id)
    assert response.json()["reference"] == request.reference
    assert "ada.lovelace@example.com" not in response.content.decode()


@pytest.mark.parametrize(
    "public_id", ["6f1c2a34-9b1e-4d2a-8c55-0d9e4b7a1f20", "not-a-uuid", "42"]
)
@pytest.mark.django_db
def test_get_unknown_or_malformed_id_is_404(
    make_api_client: MakeClient, make_request: Callable[..., Request], public_id: str
):
    make_request()
    _, http = make_api_client(*ALL_SCOPES)

    detail = http.get(_url(public_id))
    action = http.post(_url(public_id, "cancel"), {}, format="json")

    assert detail.status_code == 404
    assert detail.json()["error"] == "not_found"
    assert action.status_code == 404


# --- Actions ----------------------------------------------------------------


@pytest.mark.django_db
def test_verify_then_extend_moves_the_due_date_to_three_months(
    make_api_client: MakeClient,
):
    # given a request filed through the API on Fri 31 Jan 2025
    _, http = make_api_client(*ALL_SCOPES)
    with time_machine.travel(_at(2025, 1, 31, 10), tick=False):
        created = http.post(URL, _body(), format="json").json()
        request = Request.objects.get(public_id=created["id"])

        # when the calling system vouches for the requester
        verified = http.post(_url(request, "verify"), {}, format="json")

        # then work starts, due one month on
        assert verified.status_code == 200, verified.json()
        assert verified.json()["status"] == "in_progress"
        assert verified.json()["verification_method"] == "api_vouched"
        assert verified.json()["due_on"] == "2025-02-28"

        # when the request is extended
        extended = http.post(
            _url(request, "extend"),
            {"reason": "Eleven systems hold this customer's chats."},
            format="json",
        )

        # then it is due three months from receipt (Wed 30 Apr 2025)
        assert extended.status_code == 200, extended.json()
        assert extended.json()["extended"] is True
        assert extended.json()["due_on"] == "2025-04-30"
        assert extended.json()["standard_due_on"] == "2025-02-28"
        assert extended.json()["extension_reason"].startswith("Eleven systems")

        # and a second extension is refused without changing anything
        again = http.post(
            _url(request, "extend"), {"reason": "Still more systems."}, format="json"
        )
    assert again.status_code == 409
    assert again.json()["error"] == "illegal_transition"
    request.refresh_from_db()
    assert request.due_on.isoformat() == "2025-04-30"
    assert request.extension_reason.startswith("Eleven systems")
    assert _actions(request).count("request.extended") == 1
    assert {"request.verified", "request.started"} <= set(_actions(request))


@pytest.mark.django_db
def test_verify_rejects_an_unknown_method(
    make_api_client: MakeClient, make_request: Callable[..., Request]
):
    request = make_request()
    _, http = make_api_client(*ALL_SCOPES)

    response = http.post(_url(request, "verify"), {"method": "vibes"}, format="json")

    assert response.status_code == 400
    assert "method" in response.json()["errors"]
    request.refresh_from_db()
    assert request.status == "received"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param({}, 400, id="missing"),
        pytest.param({"reason": ""}, 400, id="blank"),
        pytest.param({"reason": "no"}, 400, id="too-short"),
    ],
)
@pytest.mark.django_db
def test_reject_needs_a_reason(
    make_api_client: MakeClient,
    make_request: Callable[..., Request],
    body: dict[str, str],
    status: int,
):
    request = make_request()
    _, http = make_api_client(*ALL_SCOPES)

    response = http.post(_url(request, "reject"), body, format="json")

    assert response.status_code == status
    assert "reason" in response.json()["errors"]
    request.refresh_from_db()
    assert request.status == "received"
    assert "request.rejected" not in _actions(request)


@pytest.mark.django_db
def test_reject_tells_the_subject_of_their_right_to_complain(
    make_api_client: MakeClient,
    make_request: Callable[..., Request],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
):
    # given a request and a named supervisory authority
    settings.SUPERVISORY_AUTHORITY = "the Data Protection Commission"
    request = make_request()
    _, http = make_api_client(*ALL_SCOPES)

    # when it is rejected
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(
            _url(request, "reject"),
            {"reason": "We hold no data about this person."},
            format="json",
        )

    # then the subject is told why, where to complain and of judicial remedy
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "rejected"
    assert response.json()["status_reason"] == "We hold no data about this person."
    assert response.json()["days_left"] is None
    assert "request.rejected" in _actions(request)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada.lovelace@example.com"]
    assert "the Data Protection Commission" in message.body
    assert "judicial remedy" in message.body.lower()


@pytest.mark.django_db
def test_cancel_a_closed_request_is_409_and_changes_nothing(
    make_api_client: MakeClient, make_request: Callable[..., Request]
):
    # given a rejected request
    request = make_request()
    _, http = make_api_client(*ALL_SCOPES)
    http.post(
        _url(request, "reject"), {"reason": "Manifestly unfounded."}, format="json"
    )
    events_before = _actions(request)

    # when a client tries to cancel it
    response = http.post(_url(request, "cancel"), {"reason": "dup"}, format="json")

    # then
    assert response.status_code == 409
    assert response.json()["error"] == "illegal_transition"
    request.refresh_from_db()
    assert request.status == "rejected"
    assert _actions(request) == events_before


@pytest.mark.django_db
def test_cancel_with_or_without_a_reason(
    make_api_client: MakeClient, make_request: Callable[..., Request]
):
    quiet = make_request()
    explained = make_request()
    _, http = make_api_client(*ALL_SCOPES)

    no_reason = http.post(_url(quiet, "cancel"), format="json")
    with_reason = http.post(
        _url(explained, "cancel"), {"reason": "Withdrawn by phone"}, format="json"
    )

    assert no_reason.status_code == 200, no_reason.json()
    assert no_reason.json()["status"] == "cancelled"
    assert with_reason.json()["status_reason"] == "Withdrawn by phone"
    assert "request.cancelled" in _actions(quiet)
    assert "request.cancelled" in _actions(explained)


@pytest.mark.django_db
def test_approve_pause_resume_note_and_close_each_leave_an_audit_event(
    make_api_client: MakeClient, settings: Any
):
    # given an API request on a desk that approves work before it starts
    settings.REQUESTS_REQUIRE_APPROVAL = True
    _, http = make_api_client(*ALL_SCOPES)
    created = http.post(URL, _body(), format="json").json()
    request = Request.objects.get(public_id=created["id"])

    # when it goes through its life
    verified = http.post(
        _url(request, "verify"), {"method": "api_vouched"}, format="json"
    )
    approved = http.post(_url(request, "approve"), format="json")
    paused = http.post(
        _url(request, "pause"), {"reason": "clarification"}, format="json"
    )
    resumed = http.post(_url(request, "resume"), {}, format="json")
    note = http.post(
        _url(request, "notes"), {"text": "Asked which chats they mean."}, format="json"
    )
    closed = http.post(_url(request, "close"), {"outcome": "completed"}, format="json")

    # then each step answered with the updated request and was audited
    assert verified.json()["status"] == "verified"
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "in_progress"
    assert paused.status_code == 200, paused.json()
    assert paused.json()["pauses"][-1]["reason"] == "clarification"
    assert paused.json()["pauses"][-1]["ended_at"] is None
    assert resumed.status_code == 200, resumed.json()
    assert resumed.json()["pauses"][-1]["ended_at"] is not None
    assert note.status_code == 201, note.json()
    assert set(note.json()) == {"id", "author_label", "created_at"}
    assert closed.status_code == 200, closed.json()
    assert closed.json()["status"] == "completed"
    assert closed.json()["closed_at"] is not None
    assert {
        "request.received",
        "request.verified",
        "request.approved",
        "request.started",
        "request.paused",
        "request.resumed",
        "request.note_added",
        "request.closed",
    } <= set(_actions(request))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"outcome": "done"}, "outcome", id="bad-outcome"),
        pytest.param({"outcome": "failed"}, "note", id="failure-without-note"),
        pytest.param({"outcome": "completed", "extra": 1}, "extra", id="unknown"),
    ],
)
@pytest.mark.django_db
def test_close_rejects_bad_input(
    make_api_client: MakeClient,
    make_request: Callable[..., Request],
    body: dict[str, Any],
    field: str,
):
    request = make_request(verified=True)
    _, http = make_api_client(*ALL_SCOPES)

    response = http.post(_url(request, "close"), body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    request.refresh_from_db()
    assert request.status == "in_progress"


@pytest.mark.django_db
def test_pause_rejects_an_unknown_reason_and_a_second_pause(
    make_api_client: MakeClient, make_request: Callable[..., Request]
):
    request = make_request(verified=True)
    _, http = make_api_client(*ALL_SCOPES)

    unknown = http.post(_url(request, "pause"), {"reason": "lunch"}, format="json")
    first = http.post(
        _url(request, "pause"), {"reason": "clarification"}, format="json"
    )
    second = http.post(
        _url(request, "pause"), {"reason": "clarification"}, format="json"
    )

    assert unknown.status_code == 400
    assert "reason" in unknown.json()["errors"]
    assert first.status_code == 200
    assert second.status_code == 409
    assert request.pauses.count() == 1


@pytest.mark.django_db
def test_note_must_not_be_empty(
    make_api_client: MakeClient, make_request: Callable[..., Request]
):
    request = make_request()
    _, http = make_api_client("requests:read", "requests:write")

    response = http.post(_url(request, "notes"), {"text": "   "}, format="json")

    assert response.status_code == 400
    assert "text" in response.json()["errors"]
    assert request.notes.count() == 0


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("verify", {}),
        ("approve", {}),
        ("reject", {"reason": "Manifestly unfounded."}),
        ("extend", {"reason": "Many systems to search."}),
        ("cancel", {}),
        ("pause", {"reason": "clarification"}),
        ("resume", {}),
        ("close", {"outcome": "completed"}),
    ],
)
@pytest.mark.django_db
def test_actions_without_their_scope_are_403_and_change_nothing(
    make_api_client: MakeClient,
    make_request: Callable[..., Request],
    action: str,
    body: dict[str, Any],
):
    # given a request and a client that may only read and write
    request = make_request()
    _, http = make_api_client("requests:read", "requests:write")
    events_before = _actions(request)

    # when it tries a managing action
    response = http.post(_url(request, action), body, format="json")

    # then it is refused and the request is as it was
    assert response.status_code == 403
    assert response.json()["error"] == "permission_denied"
    request.refresh_from_db()
    assert request.status == "received"
    assert not request.is_extended
    assert request.pauses.filter(ended_at__isnull=True).count() == 1
    assert _actions(request) == events_before


@pytest.mark.django_db
def test_note_without_the_write_scope_is_403(
    make_api_client: MakeClient, make_request: Callable[..., Request]
):
    request = make_request()
    _, http = make_api_client("requests:read", "requests:manage")

    response = http.post(_url(request, "notes"), {"text": "hello"}, format="json")

    assert response.status_code == 403
    assert request.notes.count() == 0


@pytest.mark.django_db
def test_actions_also_need_the_read_scope_to_find_the_request(
    make_api_client: MakeClient, make_request: Callable[..., Request]
):
    # given a client that may manage but not read requests
    request = make_request()
    _, http = make_api_client("requests:manage")

    # when it tries to cancel one
    response = http.post(_url(request, "cancel"), {}, format="json")

    # then the lookup is refused and the request is untouched
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == "received"
    assert "request.cancelled" not in _actions(request)
