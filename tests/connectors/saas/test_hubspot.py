"""The hubspot kind against the HubSpot stand-in (a real HTTP server on
loopback keeping state): CRM search by a POST body of filterGroups paged by
`after`, properties read from inside, the GDPR delete by id (permanent),
archived contacts not searchable, rectification by PATCH, 401 and 429."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.base import ConnectorError, Identity
from connectors.kinds.saas import SaasConnector
from standins.hubspot import StandIn
from standins.hubspot.state import contact_id
from tests.connectors.saas.services import SERVICES
from tests.hubspot import TOKEN, hubspot_standin
from tests.standin_fixtures import WINDOW, short_window, vendor_window

pytestmark = pytest.mark.django_db
standin = hubspot_standin  # the fixture, by the name the tests use


HUBSPOT = SERVICES["hubspot"]()  # its stand-in and connector, as services.py says


def connector(standin: StandIn, *, token: str = TOKEN, **extra: Any) -> SaasConnector:
    return HUBSPOT.connector(standin, token=token, **extra)


def contact(standin: StandIn, number: int = 3) -> dict[str, Any]:
    return HUBSPOT.subject(standin, number)


def identity_of(person: dict[str, Any]) -> Identity:
    return Identity(emails=(person["email"].upper(),), phones=(person["phone"],))


def test_health_reads_one_id_and_names_auth(standin: StandIn) -> None:
    assert connector(standin).health().status.startswith("ok")
    with pytest.raises(ConnectorError) as refused:
        connector(standin, token="pat-na1-wrong").health()
    assert "auth refused (HTTP 401)" in refused.value.message


def test_access_reads_the_contact_s_properties(standin: StandIn) -> None:
    person = contact(standin)

    records = list(connector(standin).access(identity_of(person)))

    # found by e-mail and by phone: one contact, once
    (found,) = records
    assert found.location == "contact"
    assert found.key == person["id"]
    assert found.category == "contact"
    assert found.data["properties.email"] == person["email"]
    assert found.data["properties.phone"] == person["phone"]
    assert found.data["properties.lastname"] == person["lastname"]
    assert standin.stats.by_route["search"] == 2


def test_search_pages_follow_after(standin: StandIn) -> None:
    # three contacts share an e-mail: the stand-in's pages hold two
    person = contact(standin)
    for number in (4, 5):
        standin.account.contacts[contact_id(number)]["email"] = person["email"]

    records = list(connector(standin).access(Identity(emails=(person["email"],))))

    assert sorted(r.key for r in records) == [contact_id(n) for n in (3, 4, 5)]
    assert standin.stats.by_route["search"] == 2  # a page of 2, then of 1


def test_erase_deletes_by_id_for_good_then_nothing_is_found(
    standin: StandIn,
) -> None:
    person = contact(standin)
    hub = connector(standin)

    receipt = hub.erase(identity_of(person))

    assert receipt.per_location["contact"] == {"found": 1, "changed": 1}
    assert person["id"] in standin.account.gdpr_deleted
    assert person["id"] not in standin.account.contacts
    # by id, never by e-mail (an unknown e-mail would be blocklisted)
    assert standin.account.blocklist == set()
    outcome = hub.verify_erased(identity_of(person), receipt)
    assert outcome.per_location["contact"]["found"] == 0
    assert list(hub.access(identity_of(person))) == []


def test_erase_twice_changes_nothing_the_second_time(standin: StandIn) -> None:
    person = contact(standin)
    hub = connector(standin)
    hub.erase(identity_of(person))
    deleted = standin.stats.by_route["gdpr_delete"]

    again = hub.erase(identity_of(person))

    assert again.per_location.get("contact", {}).get("changed", 0) == 0
    assert standin.stats.by_route["gdpr_delete"] == deleted
    assert standin.account.summary()["contacts"] == 9


def test_an_unknown_subject_is_never_sent_to_the_gdpr_delete(
    standin: StandIn,
) -> None:
    receipt = connector(standin).erase(Identity(emails=("nobody@example.org",)))

    assert receipt.per_location.get("contact", {}).get("found", 0) == 0
    assert "gdpr_delete" not in standin.stats.by_route
    assert standin.account.blocklist == set()


def test_an_archived_contact_is_not_found_by_search(standin: StandIn) -> None:
    person = contact(standin)
    standin.account.archive(person["id"])

    assert list(connector(standin).access(identity_of(person))) == []


def test_rectify_patches_properties_and_says_what_it_could_not(
    standin: StandIn,
) -> None:
    person = contact(standin)

    outcome = connector(standin).rectify(
        identity_of(person),
        {"email": "new.address@example.org", "phone": "+44 7700 900123", "name": "X Y"},
    )

    assert outcome.per_location["contact"] == {"found": 1, "changed": 1}
    held = standin.account.contacts[person["id"]]
    assert held["email"] == "new.address@example.org"
    assert held["phone"] == "+44 7700 900123"
    assert held["lastname"] == person["lastname"]
    assert outcome.note == "not held by HubSpot: name"


def test_the_remaining_header_paces_calls_before_any_429(
    standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = contact(standin)
    short_window(standin, 1)  # one call per window (the definition's)
    vendor_window(monkeypatch, "hubspot", WINDOW)

    records = list(connector(standin).access(identity_of(person)))

    assert [r.key for r in records] == [person["id"]]
    assert standin.stats.refused_429 == 0  # X-HubSpot-RateLimit-Remaining: 0 waited


@pytest.mark.usefixtures("short_budget")
def test_a_429_without_retry_after_is_backed_off(standin: StandIn) -> None:
    person = contact(standin)
    short_window(standin, 1)  # one call per window, as long as the budget's
    standin.rate_headers = False  # the 429 comes unannounced: a window waited

    records = list(connector(standin).access(identity_of(person)))

    assert [r.key for r in records] == [person["id"]]
    assert standin.stats.refused_429 >= 1
