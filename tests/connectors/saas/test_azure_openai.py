"""The azure_openai kind against the Azure OpenAI stand-in (the OpenAI
stand-in's stored completions behind a resource's /openai/v1/, reached with
an Entra ID token): the token fetched once by client credentials and used as
Bearer, the subject found through the bot's metadata, her completions
deleted and verified, and Microsoft's abuse-monitoring store recorded as an
exemption with its basis and date (none once modified abuse monitoring is
approved)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from connectors.base import ConnectorError
from connectors.kinds.saas import SaasConnector
from standins.azure_openai import StandIn, start
from tests.connectors.saas.services import SERVICES, SUBJECT, identity_of
from tests.standin_fixtures import standin_fixture

pytestmark = pytest.mark.django_db
SECRET = "entra-client-secret-0123456789"
AZURE = SERVICES["azure_openai"]()

standin = standin_fixture(start, SECRET)


def _connector(standin: StandIn, **extra: Any) -> SaasConnector:
    return AZURE.connector(standin, token=SECRET, name="azure-test", **extra)


def _hers(standin: StandIn) -> set[str]:
    return {c["id"] for c in standin.account.completions_of(SUBJECT)}


def test_access_with_an_entra_token_fetched_once(standin: StandIn) -> None:
    who = AZURE.subject(standin, SUBJECT)

    records = list(_connector(standin).access(identity_of(who)))

    assert len(records) == AZURE.records(standin, SUBJECT) == 3 + 3 * 4
    assert {r.key for r in records if r.location == "completion"} == _hers(standin)
    assert standin.issuer is not None
    assert standin.issuer.fetched == 1
    assert standin.issuer.forms == [{"grant_type": "client_credentials"}]


def test_a_wrong_client_secret_is_refused_at_the_token_endpoint(
    standin: StandIn,
) -> None:
    with pytest.raises(ConnectorError) as refused:
        AZURE.connector(standin, token="not-the-secret").health()

    assert refused.value.permanent
    assert "invalid_client" in refused.value.message
    assert "not-the-secret" not in refused.value.message


def test_erasure_records_microsofts_abuse_monitoring_window(standin: StandIn) -> None:
    hers = _hers(standin)
    who = AZURE.subject(standin, SUBJECT)
    kind = _connector(standin)

    with time_machine.travel(datetime(2026, 12, 7, 12, 0, tzinfo=UTC), tick=True):
        receipt = kind.erase(identity_of(who))

    assert standin.account.deleted == hers
    (exemption,) = receipt.exemptions
    assert (exemption.location, exemption.count) == ("completion", 3)
    assert exemption.until == "2027-01-06"
    assert "learn.microsoft.com" in exemption.basis
    assert kind.verify_erased(identity_of(who), receipt).found == 0


def test_modified_abuse_monitoring_leaves_no_exemption(standin: StandIn) -> None:
    who = AZURE.subject(standin, SUBJECT)

    receipt = _connector(standin, abuse_monitoring_days=0).erase(identity_of(who))

    assert receipt.per_location["completion"]["changed"] == 3
    assert receipt.exemptions == []
