"""Request floods: many requests from one address, or for one e-mail domain."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from alerts.choices import AlertRule, SubjectKind
from audit.models import AuditEvent
from dsr.models import Request
from dsr.services.intake import source_ip_hash
from tests.alerts.conftest import alerts_of

pytestmark = pytest.mark.django_db


def _file(email: str, address: str) -> Request:
    """File an access request in the portal, as a browser at `address` would."""
    response = Client(REMOTE_ADDR=address).post(
        reverse("portal:new"),
        {
            "kind": "access",
            "residence": "eu",
            "email": email,
            "phone": "",
            "correction": "",
            "details": "",
        },
    )
    assert response.status_code == 302, response.content
    return Request.objects.latest("pk")


def test_five_requests_from_one_address_raise_an_address_alert(
    evaluate: Callable[[], Any],
) -> None:
    # given five people's requests sent from one address within the hour
    filed = [_file(f"person{i}@mail{i}.example", "203.0.113.7") for i in range(5)]
    # when
    evaluate()
    # then
    [alert] = alerts_of(AlertRule.IP_BURST)
    assert alert.subject_kind == SubjectKind.IP_HASH
    assert alert.subject == source_ip_hash("203.0.113.7")
    assert alert.count == 5
    assert sorted(alert.details["requests"]) == sorted(str(r.public_id) for r in filed)
    assert alerts_of(AlertRule.DOMAIN_BURST) == []


def test_ordinary_intake_raises_nothing(evaluate: Callable[[], Any]) -> None:
    # given four requests from one address and others from many addresses
    for i in range(4):
        _file(f"person{i}@mail{i}.example", "203.0.113.7")
    for i in range(6):
        _file(f"other{i}@example.org", f"198.51.100.{i + 1}")
    # when
    evaluate()
    # then
    assert alerts_of(AlertRule.IP_BURST) == []
    assert alerts_of(AlertRule.DOMAIN_BURST) == []


def test_many_requests_for_one_domain_from_many_addresses_raise_a_domain_alert(
    evaluate: Callable[[], Any], rules: Callable[..., Any]
) -> None:
    # given someone harvesting one company's people, each from a new address
    for i in range(4):
        _file(f"employee{i}@victim-corp.example", f"192.0.2.{i + 1}")
    _file("someone@elsewhere.example", "192.0.2.99")
    # when
    with rules(domain_burst={"threshold": 4}):
        evaluate()
    # then
    [alert] = alerts_of(AlertRule.DOMAIN_BURST)
    assert alert.subject_kind == SubjectKind.DOMAIN_HASH
    assert alert.count == 4
    assert alerts_of(AlertRule.IP_BURST) == []


def test_intake_events_carry_hashes_never_the_address_or_the_domain(
    evaluate: Callable[[], Any],
) -> None:
    request = _file("jo.bloggs@bloggs-family.example", "203.0.113.9")
    event = AuditEvent.objects.get(
        action="request.received", object_id=str(request.public_id)
    )
    stored = json.dumps(event.data)
    assert event.data["ip_hash"] == source_ip_hash("203.0.113.9")
    assert len(event.data["email_domain_hash"]) == 64
    assert "203.0.113.9" not in stored
    assert "bloggs" not in stored


def test_api_requests_are_not_counted_by_default(
    make_api_client: Callable[..., Any],
    evaluate: Callable[[], Any],
    rules: Callable[..., Any],
) -> None:
    # a CRM forwarding many requests from its one address is normal
    _client, http = make_api_client("requests:write")
    for i in range(3):
        response = http.post(
            "/api/v1/requests/",
            {
                "kind": "access",
                "regime": "gdpr",
                "identity": {"email": f"c{i}@x.example"},
            },
            format="json",
            REMOTE_ADDR="203.0.113.50",
        )
        assert response.status_code == 201
    with rules(ip_burst={"threshold": 3}):
        evaluate()
    assert alerts_of(AlertRule.IP_BURST) == []
