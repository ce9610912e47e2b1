"""Global Privacy Control: an opt-out of sale and sharing, and nothing else."""

from __future__ import annotations

import pytest
from django.test import Client

from consent.models import ConsentEvent, ConsentState
from consent.selectors import consent_check
from consent.services.events import consent_apply_gpc

pytestmark = pytest.mark.django_db
ADA = {"email": "ada@example.com"}


def test_gpc_withdraws_only_sale_and_sharing_purposes(
    ada, choose, tester, django_capture_on_commit_callbacks
):
    # given consent to everything
    for slug in ("ai_processing", "ai_training", "analytics", "marketing_email"):
        choose(ada, slug, True)

    # when the browser sends Sec-GPC: 1
    with django_capture_on_commit_callbacks(execute=True):
        recorded = consent_apply_gpc(
            actor=tester, subject=ada, evidence={"user_agent": "Firefox"}
        )

    # then sale/sharing purposes are withdrawn by the signal, the rest stand
    assert sorted(r.event.purpose.slug for r in recorded) == [
        "ai_training",
        "analytics",
    ]
    for item in recorded:
        assert item.event.channel == "gpc"
        assert item.event.action == "withdraw"
        assert item.event.evidence["gpc"] is True
    states = dict(
        ConsentState.objects.filter(subject=ada).values_list("purpose__slug", "state")
    )
    assert states == {
        "ai_processing": "granted",
        "ai_training": "withdrawn",
        "analytics": "withdrawn",
        "marketing_email": "granted",
    }
    assert not consent_check(actor=tester, identity=ADA, purpose="ai_training")[
        "allowed"
    ]
    assert consent_check(actor=tester, identity=ADA, purpose="marketing_email")[
        "allowed"
    ]


def test_a_repeated_signal_records_nothing_more(ada, tester):
    consent_apply_gpc(actor=tester, subject=ada)
    count = ConsentEvent.objects.count()

    again = consent_apply_gpc(actor=tester, subject=ada)

    assert again == []
    assert ConsentEvent.objects.count() == count == 2


def test_the_gpc_endpoint_opts_out_a_subject_by_identity(make_api_client):
    _, http = make_api_client("consent:write")

    response = http.post(
        "/api/v1/consent/gpc/",
        {"identity": {"email": "new.visitor@example.com"}},
        format="json",
        REMOTE_ADDR="192.0.2.10",
    )

    assert response.status_code == 200
    events = response.json()["events"]
    assert {e["purpose"] for e in events} == {"ai_training", "analytics"}
    assert all(e["channel"] == "gpc" for e in events)
    assert all(e["evidence"]["ip_hash"] for e in events)


def test_well_known_gpc_json_is_served():
    response = Client().get("/.well-known/gpc.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["gpc"] is True
    assert len(body["lastUpdate"]) == 10  # YYYY-MM-DD
