"""The breach register API under /api/v1/breaches/, behind the governance
scopes, called as a client calls it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from audit.models import AuditEvent
from breaches.models import Breach
from tests.breaches.conftest import FRIDAY_5PM

pytestmark = pytest.mark.django_db
BREACHES = "/api/v1/breaches/"
AWARE = "2026-03-06T17:00:00Z"  # a Friday


@pytest.fixture(autouse=True)
def _saturday_noon(at: Callable[..., None]) -> None:
    at(FRIDAY_5PM + timedelta(hours=19))


def _body(**extra: Any) -> dict[str, Any]:
    return {
        "title": "Support inbox forwarded to a wrong address",
        "aware_at": AWARE,
        "description": "A mail rule forwarded 40 tickets to an outside address.",
        "approx_subjects": 40,
        **extra,
    }


def test_a_breach_is_recorded_listed_and_read_back(
    make_api_client: Callable[..., Any],
) -> None:
    _, api = make_api_client("governance:read", "governance:write")

    created = api.post(BREACHES, _body(), format="json")
    listed = api.get(BREACHES)
    one = api.get(f"{BREACHES}{created.json()['id']}/")

    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["reference"].startswith("BR-2026-")
    assert body["clock"]["notify_by"] == "2026-03-09T17:00:00Z"  # Monday, 72 h
    assert body["clock"]["state"] == "running"
    assert body["clock"]["hours_left"] == 53.0
    assert "consequences" in body["missing_33_3"]
    assert body["notices"] == {"queued": 0, "sent": 0, "failed": 0}
    assert [b["id"] for b in listed.json()["results"]] == [body["id"]]
    assert one.json()["approx_subjects"] == 40


@pytest.mark.parametrize(
    ("scopes", "status"),
    [(("governance:read",), 403), (("requests:manage",), 403)],
)
def test_recording_needs_governance_write_and_nothing_is_written(
    make_api_client: Callable[..., Any], scopes: tuple[str, ...], status: int
) -> None:
    _, api = make_api_client(*scopes)
    response = api.post(BREACHES, _body(), format="json")
    assert response.status_code == status
    assert not Breach.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="breach.").exists()


def test_reading_needs_governance_read(
    make_api_client: Callable[..., Any], make_breach: Callable[..., Breach]
) -> None:
    breach = make_breach()
    _, writer = make_api_client("governance:write")
    _, reader = make_api_client("governance:read")
    assert writer.get(BREACHES).status_code == 403
    assert writer.get(f"{BREACHES}{breach.public_id}/").status_code == 403
    assert reader.get(f"{BREACHES}{breach.public_id}/").status_code == 200
    assert reader.get(BREACHES, {"status": "closed"}).json()["results"] == []


def test_no_token_is_a_401(db: Any) -> None:
    from rest_framework.test import APIClient

    assert APIClient().get(BREACHES).status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": None}, "title"),
        ({"aware_at": "2026-03-06T17:00:00"}, "aware_at"),  # no zone
        ({"aware_at": "2027-03-06T17:00:00Z"}, "aware_at"),  # future
        ({"description": "short"}, "description"),
        ({"approx_subjects": -3}, "approx_subjects"),
        ({"risk": "huge"}, "risk"),
        ({"severity": "high"}, "severity"),  # unknown
        ({"occurred_at": "2026-03-07T09:00:00Z"}, "occurred_at"),  # after awareness
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    make_api_client: Callable[..., Any], change: dict[str, Any], field: str
) -> None:
    _, api = make_api_client("governance:write")
    body = {**_body(), **change}
    if change.get("title", "") is None:
        del body["title"]
    response = api.post(BREACHES, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert not Breach.objects.exists()


def test_not_notifying_without_reasons_is_refused_on_that_field(
    make_api_client: Callable[..., Any], make_breach: Callable[..., Breach]
) -> None:
    breach = make_breach()
    _, api = make_api_client("governance:write")
    url = f"{BREACHES}{breach.public_id}/"
    refused = api.patch(
        url, {"risk": "none", "authority_decision": "not_notify"}, format="json"
    )
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["authority_decision_reasons"]
    accepted = api.patch(
        url,
        {
            "risk": "none",
            "authority_decision": "not_notify",
            "authority_decision_reasons": "Public data only: names on a sign-up list.",
        },
        format="json",
    )
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["clock"]["state"] == "not_required"


def test_a_late_notification_needs_the_reasons_for_the_delay(
    make_api_client: Callable[..., Any],
    make_breach: Callable[..., Breach],
    at: Callable[..., None],
) -> None:
    breach = make_breach()
    at(FRIDAY_5PM + timedelta(hours=90))
    _, api = make_api_client("governance:write")
    url = f"{BREACHES}{breach.public_id}/notify-authority/"
    late = {"notified_at": "2026-03-09T20:00:00Z", "reference": "ICO-445566"}

    refused = api.post(url, late, format="json")
    accepted = api.post(
        url, {**late, "late_reason": "The processor told us only on Monday."}, "json"
    )
    again = api.post(url, {**late, "late_reason": "Sent twice by mistake."}, "json")

    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["late_reason"]
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["clock"]["state"] == "notified_late"
    assert accepted.json()["clock"]["hours_left"] == -3.0
    assert accepted.json()["authority_reference"] == "ICO-445566"
    assert again.status_code == 409


def test_the_breaches_api_is_in_the_openapi_schema(
    make_api_client: Callable[..., Any],
) -> None:
    _, api = make_api_client("governance:read")
    schema = api.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert set(paths[BREACHES]) >= {"get", "post"}
    assert set(paths[f"{BREACHES}{{id}}/"]) >= {"get", "patch"}
    notify = paths[f"{BREACHES}{{id}}/notify-authority/"]["post"]
    assert {"200", "400", "409"} <= set(notify["responses"])


def test_an_unknown_list_parameter_is_a_400(
    make_api_client: Callable[..., Any],
) -> None:
    _, api = make_api_client("governance:read")
    response = api.get(BREACHES, {"stauts": "open", "limit": 5})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["stauts"]


def test_the_evidence_pack_downloads_with_governance_read(
    make_api_client: Callable[..., Any], make_breach: Callable[..., Breach]
) -> None:
    breach = make_breach()
    _, reader = make_api_client("governance:read")
    _, writer = make_api_client("governance:write")
    url = f"{BREACHES}{breach.public_id}/evidence.pdf"

    pdf = reader.get(url)
    refused = writer.get(url)
    missing = reader.get(f"{BREACHES}00000000-0000-4000-8000-000000000000/evidence.pdf")

    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(
        action="evidence_pack.generated", data__sha256=pdf["X-Evidence-Pack-SHA256"]
    ).exists()
    assert refused.status_code == 403
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
