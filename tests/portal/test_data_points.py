"""CCPA non-account holders prove who they are with data points matched
against a real SQLite store (CCPA-REG §§7060(h), 7062; REQUIREMENTS B15):
two for deletion and correction, three and the signed declaration for a
copy; never the field being corrected; only counts and kinds recorded."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.actors import actor_system
from audit.models import AuditEvent
from connectors.base import Identity
from connectors.kinds.sql import SqlConnector
from connectors.services import connector_create
from dsr.choices import RequestStatus
from dsr.models import DataPointCheck, Request
from evidence.services import evidence_pack_generate
from tests.disclosure import CATEGORIES, DISCLOSURE
from tests.evidence.pack_helpers import embedded, flat_text, shows
from tests.portal.conftest import last_code

EMAIL = "carla.consumer@example.org"
CARLA = {
    "name": "Carla Consumer",
    "phone": "(415) 555-0100",
    "postal_code": "94103-1234",
    "street_address": "12 Mission St.",
    "order_number": "A-10042",
}
SYSTEM = actor_system("tests")


def _build(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.executescript(
        """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, name TEXT,
                                phone TEXT, zip TEXT, street TEXT);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER,
                             number TEXT);
        INSERT INTO customers VALUES
          (1, 'Carla.Consumer@example.org', 'Carla  Consumer', '+1 415 555 0100',
           '94103', '12 Mission St'),
          (2, 'olga.other@example.org', 'Olga Other', '+1 212 555 0199',
           '10001', '1 Broadway');
        INSERT INTO orders VALUES (1, 1, 'A-10042'), (2, 2, 'B-20077');
        """
    )
    connection.commit()
    connection.close()


def _config(path: Path) -> dict[str, Any]:
    return {
        "dsn": f"sqlite:///{path}",
        "tables": [
            {
                "table": "customers",
                "identity": {"email": "email", "phone": "phone"},
                "name_column": "name",
                "data_points": {"postal_code": "zip", "street_address": "street"},
                "erase": {
                    "email": "hash",
                    "name": "null",
                    "phone": "null",
                    "zip": "null",
                    "street": "null",
                },
            },
            {
                "table": "orders",
                "parent": {"table": "customers", "column": "customer_id"},
                "data_points": {"order_number": "number"},
                "erase": "delete",
            },
        ],
    }


@pytest.fixture
def store(tmp_path: Path, db: None, settings: Any) -> Path:
    settings.CCPA_DATA_POINT_MATCHING = True
    path = tmp_path / "helpdesk.sqlite3"
    _build(path)
    connector_create(
        actor=SYSTEM,
        name="helpdesk",
        kind="sql",
        config=_config(path),
        data_categories=CATEGORIES,
        disclosure=DISCLOSURE,
    )
    # a store whose kind cannot match: it proves nothing, and breaks nothing
    connector_create(
        actor=SYSTEM,
        name="phone-desk",
        kind="manual",
        config={"instructions": "Search the call log."},
        data_categories=CATEGORIES,
        disclosure=DISCLOSURE,
    )
    return path


def _file(client: Client, kind: str, **extra: str) -> tuple[Request, str]:
    """File in the portal and type the e-mailed code; -> (request, next URL)."""
    data = {
        "kind": kind,
        "residence": "california",
        "email": EMAIL,
        "phone": "",
        "correction": "",
        "details": "",
        **extra,
    }
    response = client.post(reverse("portal:new"), data, follow=True)
    request = Request.objects.latest("pk")
    response = client.post(
        response.redirect_chain[-1][0], {"action": "verify", "code": last_code()}
    )
    return request, response["Location"]


def _details(**points: str) -> dict[str, str]:
    return {kind: CARLA[kind] for kind in points} | {
        k: v for k, v in points.items() if v not in ("", "yes")
    }


Give = Callable[..., Any]


@pytest.fixture
def give(client: Client) -> Give:
    def _give(url: str, **data: Any) -> Any:
        return client.post(url, data, follow=True)

    return _give


def test_an_erasure_waits_after_the_code_then_two_matched_points_verify_it(
    client: Client, store: Path, give: Give, django_capture_on_commit_callbacks: Any
) -> None:
    # when the requester types the right code
    request, next_url = _file(client, "erasure")

    # then the e-mail is confirmed, but the request waits for data points
    assert next_url == reverse("portal:data_points", args=[next_url.split("/")[-2]])
    request.refresh_from_db()
    assert request.status == RequestStatus.RECEIVED
    page = client.get(next_url).content.decode()
    assert "at least <strong>2</strong>" not in page  # the number is in <strong>
    assert "at least 2" in page.replace("<strong>", "").replace("</strong>", "")
    assert "penalty of perjury" not in page  # deletion needs no declaration

    # when they give their name and postal code as written differently
    with django_capture_on_commit_callbacks(execute=True):
        response = give(next_url, name="carla consumer", postal_code="94103-1234")

    # then both match, and the request is verified by the e-mail code
    assert "we have confirmed it is you" in response.content.decode()
    request.refresh_from_db()
    assert request.verified_at is not None
    assert request.verification_method == "email_code"
    check = DataPointCheck.objects.get(request=request)
    assert (check.points_matched, check.points_given) == (2, 2)
    assert check.kinds_matched == ["name", "postal_code"]
    assert check.stores_asked == 1  # the manual store cannot match
    # and the audit trail says how many and which kinds, never a value
    event = AuditEvent.objects.get(action="request.data_points_checked")
    assert event.data["points_matched"] == 2
    assert event.data["passed"] is True
    assert "94103" not in str(event.data)
    assert "Carla" not in str(event.data).replace("carla", "")


def test_another_persons_details_do_not_match(
    client: Client, store: Path, give: Give
) -> None:
    request, next_url = _file(client, "erasure")

    # Olga's phone and order, given with Carla's verified address
    response = give(next_url, phone="+1 212 555 0199", order_number="B-20077")

    assert "We could match 0 of the 2 details" in response.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.RECEIVED
    check = DataPointCheck.objects.get(request=request)
    assert check.attempts == 1
    assert check.passed_at is None


def test_a_copy_needs_three_points_and_the_signed_declaration(
    client: Client, store: Path, give: Give
) -> None:
    request, next_url = _file(client, "access")
    assert "penalty of perjury" in client.get(next_url).content.decode()

    # three right points without the declaration: refused, nothing recorded
    response = give(
        next_url, name=CARLA["name"], phone=CARLA["phone"], order_number="A10042"
    )
    assert "Tick the declaration" in response.content.decode()
    assert DataPointCheck.objects.get(request=request).attempts == 0

    # two right of three, declared: not enough
    response = give(
        next_url,
        name=CARLA["name"],
        phone=CARLA["phone"],
        street_address="99 Elsewhere Ave",
        declaration="on",
    )
    assert "We could match 2 of the 3 details" in response.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.RECEIVED

    # three right, declared: verified, the declaration's time recorded
    give(
        next_url,
        name=CARLA["name"],
        phone=CARLA["phone"],
        street_address="12 mission st",
        declaration="on",
    )
    request.refresh_from_db()
    assert request.verified_at is not None
    check = DataPointCheck.objects.get(request=request)
    assert check.points_matched == 3
    assert check.declaration_signed_at is not None

    # and the evidence pack carries the counts and kinds, not the values
    result = evidence_pack_generate(actor=SYSTEM, request=request)
    facts = embedded(result.content)["facts"]
    assert facts["data_points"]["points_matched"] == 3
    assert facts["data_points"]["kinds_matched"] == [
        "name",
        "phone",
        "street_address",
    ]
    assert "Mission" not in str(facts["data_points"])
    assert shows(flat_text(result.content), "Data points matched")


def test_fewer_points_than_required_are_refused_naming_the_form(
    client: Client, store: Path, give: Give
) -> None:
    request, next_url = _file(client, "access")

    response = give(next_url, name=CARLA["name"], declaration="on")

    assert "Give at least 3 of these details" in response.content.decode()
    assert DataPointCheck.objects.get(request=request).attempts == 0


def test_a_correction_is_never_verified_by_the_field_it_corrects(
    client: Client, store: Path, give: Give
) -> None:
    request, next_url = _file(
        client, "rectification", correction="My name is Carla Consumer-Lopez."
    )

    # the name is what is corrected: it cannot count
    response = give(next_url, corrected="name", name=CARLA["name"], postal_code="94103")
    assert "what you want corrected" in response.content.decode()
    assert DataPointCheck.objects.get(request=request).attempts == 0

    # other fields prove it
    give(next_url, corrected="name", postal_code="94103", order_number="A-10042")
    request.refresh_from_db()
    assert request.verified_at is not None
    check = DataPointCheck.objects.get(request=request)
    assert check.kinds_excluded == ["name"]
    assert "name" not in check.kinds_matched


def test_after_the_last_try_the_team_takes_over(
    client: Client, store: Path, give: Give, settings: Any
) -> None:
    settings.CCPA_DATA_POINT_ATTEMPTS = 1
    request, next_url = _file(client, "erasure")

    response = give(next_url, name="Nobody", postal_code="00000")

    assert "We could not match enough details" in response.content.decode()
    response = give(next_url, name=CARLA["name"], postal_code="94103")
    assert "too many tries" in response.content.decode().lower()
    request.refresh_from_db()
    assert request.status == RequestStatus.RECEIVED
    assert DataPointCheck.objects.get(request=request).attempts == 1


def test_with_the_setting_off_the_code_alone_verifies(
    client: Client, store: Path, settings: Any
) -> None:
    settings.CCPA_DATA_POINT_MATCHING = False

    request, next_url = _file(client, "erasure")

    assert "/status/" in next_url
    request.refresh_from_db()
    assert request.verified_at is not None
    assert not DataPointCheck.objects.exists()


def test_a_gdpr_request_needs_no_data_points(client: Client, store: Path) -> None:
    data = {"kind": "erasure", "residence": "eu", "email": EMAIL}
    response = client.post(reverse("portal:new"), data, follow=True)
    response = client.post(
        response.redirect_chain[-1][0], {"action": "verify", "code": last_code()}
    )

    assert "/status/" in response["Location"]
    assert not DataPointCheck.objects.exists()


def test_the_sql_kind_matches_only_the_subjects_rows(store: Path) -> None:
    connector = SqlConnector(name="helpdesk", config=_config(store), secrets={})
    carla = Identity(emails=(EMAIL,))

    answer = connector.match_data_points(
        carla,
        {
            "phone": "415.555.0100",
            "postal_code": "10001",  # Olga's
            "order_number": "a 10042",
            "name": "",  # empty: not asked
        },
    )

    assert answer == {"phone": True, "postal_code": False, "order_number": True}
    assert connector.match_data_points(Identity(emails=("x@example.org",)), CARLA) == {
        "name": False,
        "phone": False,
        "postal_code": False,
        "street_address": False,
        "order_number": False,
    }
