"""The consent API end to end over HTTP, against PostgreSQL and Redis."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import api_client_cache_key
from audit.accounts import api_client_scope_use_note
from audit.models import AuditEvent
from consent.models import ConsentEvent, ConsentState, PolicyVersion, Purpose
from subjects.models import DataSubject

pytestmark = pytest.mark.django_db
EVENTS = "/api/v1/consent/events/"
CHECK = "/api/v1/consent/check/"
MakeClient = Callable[..., tuple[Any, APIClient]]


def _event(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "identity": {"email": "ada@example.com"},
        "purpose": "ai_training",
        "action": "grant",
        "policy_version": "2026-10",
        "channel": "chat_widget",
        "source_system": "zendesk",
        "evidence": {"user_agent": "Mozilla/5.0", "ai_disclosure_version": "v3"},
    }
    body.update(overrides)
    return body


def _check(http: APIClient, purpose: str = "ai_training", **identity: Any) -> Any:
    return http.post(
        CHECK,
        {"identity": identity or {"email": "ada@example.com"}, "purpose": purpose},
        format="json",
    )


@pytest.fixture
def writer(make_api_client: MakeClient) -> APIClient:
    return make_api_client("consent:write", "consent:read")[1]


@pytest.fixture
def checker(make_api_client: MakeClient) -> APIClient:
    return make_api_client("consent:check")[1]


# --- recording ---------------------------------------------------------------


def test_a_grant_recorded_through_the_api_is_allowed_by_the_check(
    writer, checker, django_capture_on_commit_callbacks
):
    # given nothing known about Ada: the default answer, now cached
    assert _check(checker).json()["state"] == "default"

    # when an integration records her grant
    with django_capture_on_commit_callbacks(execute=True):
        response = writer.post(
            EVENTS, _event(), format="json", REMOTE_ADDR="198.51.100.4"
        )

    # then the event comes back with its proof, and the check says yes
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["purpose"] == "ai_training"
    assert body["policy_version"] == "2026-10"
    assert len(body["policy_sha256"]) == 64
    assert body["replayed"] is False
    assert body["evidence"]["ip_source"] == "request"
    assert "198.51.100.4" not in str(body)
    answer = _check(checker).json()
    assert answer["allowed"] is True
    assert answer["state"] == "granted"
    assert answer["policy_version"] == "2026-10"
    assert answer["since"] == body["occurred_at"].replace("Z", "+00:00")


def test_withdrawal_through_the_api_is_refused_by_the_next_check(
    writer, checker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        writer.post(EVENTS, _event(), format="json")
    assert _check(checker).json()["allowed"] is True

    with django_capture_on_commit_callbacks(execute=True):
        response = writer.post(EVENTS, _event(action="withdraw"), format="json")

    assert response.status_code == 201
    answer = _check(checker).json()
    assert answer == {
        "allowed": False,
        "state": "withdrawn",
        "purpose": "ai_training",
        "policy_version": "2026-10",
        "since": answer["since"],
    }
    assert ConsentEvent.objects.count() == 2


def test_the_current_version_is_assumed_when_none_is_given(writer):
    body = _event()
    del body["policy_version"]

    response = writer.post(EVENTS, body, format="json")

    assert response.status_code == 201
    assert response.json()["policy_version"] == "2026-10"


def test_a_retried_idempotency_key_returns_the_first_event_and_writes_nothing(writer):
    body = _event(idempotency_key="zendesk-ticket-81-consent")
    first = writer.post(EVENTS, body, format="json")
    audits = AuditEvent.objects.count()

    again = writer.post(EVENTS, body, format="json")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["replayed"] is True
    assert ConsentEvent.objects.count() == 1
    assert AuditEvent.objects.count() == audits


def test_an_idempotency_key_reused_for_another_event_is_a_conflict(writer):
    writer.post(EVENTS, _event(idempotency_key="k-1"), format="json")

    response = writer.post(
        EVENTS, _event(idempotency_key="k-1", action="withdraw"), format="json"
    )

    assert response.status_code == 409
    assert "idempotency_key" in response.json()["errors"]
    assert ConsentEvent.objects.count() == 1


def test_idempotency_keys_are_scoped_to_the_client(make_api_client):
    _, crm = make_api_client("consent:write")
    _, widget = make_api_client("consent:write")

    crm.post(EVENTS, _event(idempotency_key="same"), format="json")
    response = widget.post(EVENTS, _event(idempotency_key="same"), format="json")

    assert response.status_code == 201
    assert ConsentEvent.objects.count() == 2


def test_a_batch_is_recorded_whole(writer):
    events = [
        _event(purpose="ai_training"),
        _event(purpose="analytics", action="withdraw"),
        _event(identity={"phone": "+44 20 7946 0000"}, purpose="marketing_email"),
    ]

    response = writer.post(EVENTS, {"events": events}, format="json")

    assert response.status_code == 201
    assert [e["purpose"] for e in response.json()["events"]] == [
        "ai_training",
        "analytics",
        "marketing_email",
    ]
    assert ConsentEvent.objects.count() == 3
    assert DataSubject.objects.count() == 2


@pytest.mark.parametrize(
    ("bad", "path"),
    [
        ({"purpose": "telepathy"}, "events[3].purpose"),
        ({"action": "maybe"}, "events[3].action"),
        ({"identity": {"email": "not-an-address"}}, "events[3].identity.email"),
        ({"policy_version": "1999-01"}, "events[3].policy_version"),
        ({"evidence": {"gpc": "yes"}}, "events[3].evidence.gpc"),
        ({"colour": "blue"}, "events[3].colour"),
    ],
)
def test_one_bad_item_fails_the_whole_batch_naming_it(writer, bad, path):
    events = [_event(), _event(purpose="analytics"), _event(purpose="call_recording")]
    events.append({**_event(purpose="marketing_email"), **bad})
    subjects = DataSubject.objects.count()

    response = writer.post(EVENTS, {"events": events}, format="json")

    assert response.status_code == 400
    assert path in response.json()["errors"], response.json()
    assert ConsentEvent.objects.count() == 0
    assert ConsentState.objects.count() == 0
    assert DataSubject.objects.count() == subjects
    assert not AuditEvent.objects.filter(action__startswith="consent.").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_event(purpose="telepathy"), "purpose"),
        (_event(identity={"email": "nope"}), "identity.email"),
        (_event(identity={}), "identity"),
        (_event(channel="carrier_pigeon"), "channel"),
        (_event(occurred_at="2026-11-01T10:00:00"), "occurred_at"),
        (_event(occurred_at="2099-01-01T10:00:00Z"), "occurred_at"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(writer, body, field):
    response = writer.post(EVENTS, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert ConsentEvent.objects.count() == 0


def test_check_names_bad_fields(checker):
    unknown = _check(checker, purpose="telepathy")
    bad_identity = _check(checker, phone="12")

    assert unknown.status_code == 400
    assert "purpose" in unknown.json()["errors"]
    assert bad_identity.status_code == 400
    assert "identity.phone" in bad_identity.json()["errors"]


# --- permissions ---------------------------------------------------------------


def test_a_token_without_the_write_scope_records_nothing(make_api_client):
    _, reader = make_api_client("consent:read", "consent:check")
    subjects = DataSubject.objects.count()

    response = reader.post(EVENTS, _event(), format="json")

    assert response.status_code == 403
    assert ConsentEvent.objects.count() == 0
    assert DataSubject.objects.count() == subjects
    assert not AuditEvent.objects.filter(action__startswith="consent.").exists()


def test_check_and_history_need_their_scopes(make_api_client, writer):
    writer.post(EVENTS, _event(), format="json")
    subject = DataSubject.objects.get()
    _, requests_only = make_api_client("requests:read")

    assert _check(requests_only).status_code == 403
    assert (
        requests_only.get(f"/api/v1/subjects/{subject.public_id}/consents/").status_code
        == 403
    )
    assert APIClient().post(CHECK, {}, format="json").status_code == 401
    assert ConsentEvent.objects.count() == 1


# --- reading -------------------------------------------------------------------


def test_a_subjects_consents_show_the_state_and_full_history(
    writer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        writer.post(EVENTS, _event(), format="json")
        writer.post(EVENTS, _event(action="withdraw", channel="portal"), format="json")
    subject = DataSubject.objects.get()

    response = writer.get(f"/api/v1/subjects/{subject.public_id}/consents/")

    assert response.status_code == 200
    body = response.json()
    assert body["subject"] == str(subject.public_id)
    states = {row["purpose"]: row for row in body["consents"]}
    assert states["ai_training"]["state"] == "withdrawn"
    assert states["analytics"]["state"] == "default"
    assert [e["action"] for e in body["events"]] == ["withdraw", "grant"]
    assert "ada@example.com" not in response.content.decode()


def test_an_unknown_subject_is_a_404(writer):
    response = writer.get(
        "/api/v1/subjects/00000000-0000-0000-0000-000000000000/consents/"
    )
    assert response.status_code == 404


def test_the_receipt_has_the_kantara_fields_and_the_exact_wording(writer, settings):
    settings.CONTROLLER_NAME = "Acme Support Ltd"
    writer.post(EVENTS, _event(), format="json")
    writer.post(EVENTS, _event(purpose="analytics", action="withdraw"), format="json")
    subject = DataSubject.objects.get()

    response = writer.get(f"/api/v1/subjects/{subject.public_id}/consent-receipt/")

    assert response.status_code == 200
    receipt = response.json()
    for field in (
        "version",
        "jurisdiction",
        "consentTimestamp",
        "collectionMethod",
        "consentReceiptID",
        "piiPrincipalId",
        "piiControllers",
        "policyUrl",
        "services",
        "sensitive",
        "spiCat",
    ):
        assert field in receipt, field
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["piiControllers"][0]["piiController"] == "Acme Support Ltd"
    assert receipt["piiPrincipalId"] == str(subject.public_id)
    assert isinstance(receipt["consentTimestamp"], int)
    purposes = {p["purposeCategory"][0]: p for p in receipt["services"][0]["purposes"]}
    assert set(purposes) == {"ai_training", "analytics"}
    training = purposes["ai_training"]
    version = (
        ConsentEvent.objects.filter(purpose__slug="ai_training").get().policy_version
    )
    assert training["policyVersion"] == "2026-10"
    assert training["policySha256"] == version.sha256
    assert training["state"] == "granted"
    assert training["thirdPartyDisclosure"] is True
    assert purposes["analytics"]["state"] == "withdrawn"
    assert "ada@example.com" not in response.content.decode()
    # the same state gives the same receipt id
    again = writer.get(f"/api/v1/subjects/{subject.public_id}/consent-receipt/")
    assert again.json()["consentReceiptID"] == receipt["consentReceiptID"]


def test_purposes_list_gives_the_wording_to_show(writer):
    response = writer.get("/api/v1/consent/purposes/")

    assert response.status_code == 200
    purposes = {p["slug"]: p for p in response.json()}
    assert len(purposes) == 5
    version = purposes["ai_training"]["current_version"]
    assert version["version"] == "2026-10"
    assert "withdraw your consent at any time" in version["text"]


def test_purposes_list_shows_no_version_before_it_takes_effect(
    writer: APIClient, purpose: Callable[[str], Purpose]
) -> None:
    # given new wording entered ahead of its date
    PolicyVersion.objects.create(
        purpose=purpose("ai_training"),
        version="2099-01",
        text="Wording that applies from 2099.",
        sha256="0" * 64,
        effective_at=timezone.now() + timedelta(days=30),
    )

    # when
    response = writer.get("/api/v1/consent/purposes/")

    # then the wording in force now is shown, as the check and the page use it
    purposes = {p["slug"]: p for p in response.json()}
    assert purposes["ai_training"]["current_version"]["version"] == "2026-10"


def test_ping_answers_with_the_check_scope_only(make_api_client):
    _, checker = make_api_client("consent:check")
    _, writer = make_api_client("consent:write")

    assert checker.get("/api/v1/consent/ping/").json() == {"ok": True}
    assert writer.get("/api/v1/consent/ping/").status_code == 403


# --- speed -----------------------------------------------------------------------


def test_a_cached_check_runs_no_database_query(
    checker, writer, django_assert_num_queries, django_capture_on_commit_callbacks
):
    # given a grant and a first check that fills the caches (token and answer)
    with django_capture_on_commit_callbacks(execute=True):
        writer.post(EVENTS, _event(), format="json")
    assert _check(checker).json()["allowed"] is True

    # when the agent asks again on its next turn
    with django_assert_num_queries(0):
        response = _check(checker)

    # then the answer came from Redis alone
    assert response.json()["state"] == "granted"


def test_a_cache_miss_stays_cheap(make_api_client, django_assert_max_num_queries):
    # given an agent that has used its scope before (a client's first use of
    # a scope is audited once: the new-scope alert), its token not cached
    client, checker = make_api_client("consent:check")
    api_client_scope_use_note(client=client, scope="consent:check")
    cache.delete(api_client_cache_key(client.token_hash))
    # token lookup, touch, purpose, identifier, state
    with django_assert_max_num_queries(5):
        response = _check(checker, purpose="analytics", email="new@example.com")
    assert response.json()["state"] == "default"


def _prepared_check_runs() -> tuple[int, int]:
    """(statements, runs of them) the check prepared on this connection."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(sum(generic_plans + custom_plans), 0) "
            "FROM pg_prepared_statements WHERE name LIKE 'consent_check_%%'"
        )
        return cursor.fetchone()


def _ask_about_new_people(checker: APIClient, count: int, prefix: str = "p") -> None:
    for number in range(count):
        email = f"{prefix}{number}@example.com"
        response = _check(checker, purpose="analytics", email=email)
        assert response.json()["state"] == "default"


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements: PostgreSQL"
)


@postgresql_only
def test_misses_reuse_one_prepared_query(checker):
    statements, runs = _prepared_check_runs()

    _ask_about_new_people(checker, 8)

    # PostgreSQL parsed and planned the check's query once, not per miss
    assert _prepared_check_runs() in [(statements, runs + 8), (1, 8)]


@postgresql_only
def test_misses_work_with_prepared_statements_switched_off(checker, settings):
    # a pooler in transaction mode cannot keep prepared statements
    settings.DATABASE_PREPARED_STATEMENTS = False
    before = _prepared_check_runs()

    _ask_about_new_people(checker, 8)

    assert _prepared_check_runs() == before


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_prepared_query_lost_by_the_server_is_prepared_again(checker):
    _ask_about_new_people(checker, 2, prefix="a")
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as a pooler's reset does
    _ask_about_new_people(checker, 2, prefix="b")
    connection.close()  # and a new connection starts without it
    _ask_about_new_people(checker, 2, prefix="c")

    assert _prepared_check_runs() == (1, 2)


def test_a_key_repeated_inside_one_batch_records_once(writer):
    item = _event(idempotency_key="widget-42")

    response = writer.post(EVENTS, {"events": [item, item]}, format="json")

    assert response.status_code == 201
    first, second = response.json()["events"]
    assert first["id"] == second["id"]
    assert [first["replayed"], second["replayed"]] == [False, True]
    assert ConsentEvent.objects.count() == 1


def test_the_schema_documents_the_consent_api(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    for path in (
        "/api/v1/consent/events/",
        "/api/v1/consent/check/",
        "/api/v1/subjects/{id}/consents/",
        "/api/v1/subjects/{id}/consent-receipt/",
    ):
        assert path in schema["paths"], path
