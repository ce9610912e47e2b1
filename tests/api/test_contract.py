"""What schemathesis found, each pinned down by a plain test: API-wide rules
that every endpoint keeps (errors as field paths, JSON types, pages, 404s)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.actors import actor_system
from accounts.choices import Scope
from audit.accounts import api_client_create
from connectors.models import Connector
from consent.seed import seed_purposes
from dsr.models import Request
from tests.disclosure import DISCLOSURE

MakeClient = Callable[..., tuple[Any, APIClient]]
ALL = [scope for scope in Scope.values if scope != Scope.CONNECTORS_AGENT]


@pytest.fixture
def http(make_api_client: MakeClient) -> APIClient:
    return make_api_client(*ALL)[1]


# --- pages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"offset": "abc"}, "offset"),
        ({"offset": "-1"}, "offset"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1.5"}, "limit"),
    ],
)
@pytest.mark.parametrize(
    "url",
    ["/api/v1/requests/", "/api/v1/connectors/", "/api/v1/retention/policies/"],
)
def test_a_page_is_asked_for_with_whole_numbers(
    http: APIClient, url: str, query: dict[str, str], name: str
) -> None:
    response = http.get(url, query)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [name]


def test_a_page_of_one(http: APIClient) -> None:
    for name in ("a-store", "b-store"):
        http.post(
            "/api/v1/connectors/",
            {
                "name": name,
                "kind": "manual",
                "config": {"instructions": "Flag the customer in the CRM by hand."},
                "data_categories": ["contact"],
                "disclosure": DISCLOSURE,
            },
            format="json",
        )

    page = http.get("/api/v1/connectors/", {"limit": "1", "offset": "1"}).json()

    assert page["count"] == 2
    assert [c["name"] for c in page["results"]] == ["b-store"]


# --- query strings and JSON types -----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/connectors/", "kind"),
        ("/api/v1/retention/runs/", "status"),
        ("/api/v1/retention/runs/", "policy"),
    ],
)
def test_a_filter_given_without_a_value_is_a_400(
    http: APIClient, url: str, name: str
) -> None:
    response = http.get(f"{url}?{name}=")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [name]


def test_a_due_within_filter_past_any_date_is_a_400_not_a_500(
    http: APIClient,
) -> None:
    # a number of days whose date overflows once answered 500 (schemathesis)
    response = http.get("/api/v1/requests/?due_within=99999999")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["due_within"]
    assert http.get("/api/v1/requests/?due_within=3660").status_code == 200


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"verified": 0}, "verified"),
        ({"kind": 5}, "kind"),
        ({"details": ["a list"]}, "details"),
        ({"corrections": False}, "corrections"),
        (
            {"identity": {"email": "ada@example.com", "customer_ids": False}},
            "identity.customer_ids",
        ),
    ],
)
def test_a_value_of_the_wrong_json_type_is_a_400_and_nothing_is_made(
    http: APIClient, change: dict[str, Any], path: str
) -> None:
    body = {"kind": "access", "regime": "gdpr", "identity": {"email": "a@example.com"}}

    response = http.post("/api/v1/requests/", {**body, **change}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [path]
    assert not Request.objects.exists()


def test_a_connector_switch_is_true_or_false(http: APIClient) -> None:
    response = http.post(
        "/api/v1/connectors/",
        {
            "name": "billing",
            "kind": "manual",
            "config": {"instructions": "Flag the customer in the CRM by hand."},
            "data_categories": ["contact"],
            "disclosure": DISCLOSURE,
            "enabled": "false",
        },
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["enabled"]
    assert not Connector.objects.exists()


def test_an_evidence_ip_that_is_not_text_is_a_400(http: APIClient) -> None:
    seed_purposes()

    response = http.post(
        "/api/v1/consent/gpc/",
        {"identity": {"email": "ada@example.com"}, "evidence": {"ip": {}}},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["evidence.ip"]


def test_nested_errors_are_named_by_their_path(http: APIClient) -> None:
    response = http.post(
        "/api/v1/retention/holds/",
        {
            "scope": "subject",
            "subject_identity": {"customer_ids": {"crm": ""}},
            "reason": "A claim is pending.",
            "legal_basis": "GDPR 17(3)(e)",
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "subject_identity.customer_ids.crm": ["This field may not be blank."]
    }


# --- URLs and methods -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/v1/connectors/0.5/", "/api/v1/nothing-here/", "/api/v1/requests/a/b/"]
)
def test_an_unknown_api_url_is_a_json_404(http: APIClient, url: str) -> None:
    response = http.get(url)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_found"


def test_an_unknown_page_elsewhere_stays_html(db: Any) -> None:
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_options_on_an_agent_action_answers_without_describing_inputs(
    http: APIClient,
) -> None:
    crm = http.post(
        "/api/v1/connectors/",
        {
            "name": "crm",
            "kind": "pull",
            "config": {},
            "data_categories": ["contact"],
            "disclosure": DISCLOSURE,
        },
        format="json",
    ).json()
    _, token = api_client_create(
        actor=actor_system("tests"),
        name="crm-agent",
        scopes=[Scope.CONNECTORS_AGENT],
        connector=Connector.objects.get(public_id=crm["id"]),
    )
    agent = APIClient()
    agent.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = agent.options(
        "/api/v1/agent/jobs/0b7e5f3a-2c4d-4e6f-8a9b-1c2d3e4f5a6b/claim/"
    )

    assert response.status_code == 200
    assert "actions" not in response.json()
