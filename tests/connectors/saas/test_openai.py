"""The openai kind against the OpenAI stand-in (a real HTTP server on
loopback keeping state, as openai-openapi describes the stored Chat
Completions endpoints): the subject found through the metadata the support
bot attached (her customer id under a configurable key, her e-mail only as
its SHA-256), her completions and their messages read through `after` /
`has_more` pages, deleted one by one and verified by listing again and by
id (404); the abuse-monitoring logs OpenAI keeps recorded as an exemption
with its basis and date, in the task and the evidence pack; none with zero
data retention; the project header; the reset header as a duration."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from accounts.actors import actor_system
from connectors.base import ConfigError, ConnectorError, Identity
from connectors.kinds.saas import SaasConnector
from connectors.models import Connector
from connectors.registry import kind_class
from dsr.models import RequestTask
from dsr.services.execution.running import task_run
from evidence.services.evidence_packs import evidence_pack_generate
from standins.openai import StandIn, start
from standins.openai.state import PROJECT, email_digest, subject_id
from tests.connectors.saas.services import SERVICES, SUBJECT, identity_of
from tests.disclosure import DISCLOSURE
from tests.evidence.pack_helpers import flat_text, shows
from tests.standin_fixtures import standin_fixture

pytestmark = pytest.mark.django_db
KEY = "sk-proj-demo0123456789abcdef"
OPENAI = SERVICES["openai"]()
# the erasure's day, and 30 days on: what the exemption says
ERASED_ON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
PERSISTS_UNTIL = "2027-01-06"

standin = standin_fixture(start, KEY)


def _connector(standin: StandIn, **extra: Any) -> SaasConnector:
    return OPENAI.connector(standin, token=KEY, name="openai-test", **extra)


def _subject(number: int = SUBJECT) -> dict[str, Any]:
    return OPENAI.subject(None, number)


def _bot_stores(standin: StandIn, metadata: dict[str, str]) -> str:
    """What the support bot does: a chat completion created with `store`."""
    body = {
        "model": "gpt-4.1-mini",
        "store": True,
        "metadata": metadata,
        "messages": [{"role": "user", "content": "Where is order ORD-482913?"}],
    }
    request = urllib.request.Request(
        f"{standin.url}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:
        return str(json.load(answer)["id"])


def _hers(standin: StandIn, number: int = SUBJECT) -> set[str]:
    return {c["id"] for c in standin.account.completions_of(number)}


def test_access_reads_her_completions_and_their_messages_through_after_pages(
    standin: StandIn,
) -> None:
    records = list(_connector(standin).access(identity_of(_subject())))

    # 3 completions the bot tagged for her, 4 input messages each
    assert len(records) == OPENAI.records(standin, SUBJECT) == 3 + 3 * 4
    assert {r.location: r.category for r in records} == {
        "completion": "ai_conversation",
        "message": "ai_conversation",
    }
    completions = [r for r in records if r.location == "completion"]
    assert {r.key for r in completions} == _hers(standin)
    for found in completions:
        assert found.data["metadata"]["subject_id"] == subject_id(SUBJECT)
        assert found.data["choices"][0]["message"]["role"] == "assistant"
        assert "usage" not in found.data  # only the definition's fields
    texts = [r.data["content"] for r in records if r.location == "message"]
    assert sum("ORD-" in text for text in texts) >= 3
    # pages of 2: the completions in 2 (has_more false ends it, no third
    # call), each completion's 4 messages in 2
    assert standin.stats.by_route["list"] == 2
    assert standin.stats.by_route["messages"] == 3 * 2


def test_her_customer_id_is_looked_up_under_the_configured_key(
    standin: StandIn,
) -> None:
    # the bot of this shop writes the id under its own key
    tagged = _bot_stores(standin, {"customer_ref": "C-100003", "topic": "delivery"})
    identity = Identity(customer_ids={"crm": ("C-100003",)})

    found = list(_connector(standin, subject_key="customer_ref").access(identity))
    by_default_key = list(_connector(standin).access(identity))

    assert [(r.location, r.key) for r in found if r.location == "completion"] == [
        ("completion", tagged)
    ]
    # under the default key (subject_id) her seeded chats are found instead
    assert {r.key for r in by_default_key if r.location == "completion"} == _hers(
        standin
    )


def test_the_email_is_matched_by_its_digest_never_sent_in_the_clear(
    standin: StandIn,
) -> None:
    email = _subject()["email"]
    sent: list[str] = []
    handler = standin.server.RequestHandlerClass  # type: ignore[union-attr]
    dispatch = handler._dispatch

    def recording(self: Any, method: str) -> None:
        sent.append(self.path)
        dispatch(self, method)

    handler._dispatch = recording  # type: ignore[method-assign]

    records = list(_connector(standin).access(Identity(emails=(email.upper(),))))

    assert len(records) == OPENAI.records(standin, SUBJECT)
    assert any(email_digest(email) in path for path in sent)
    assert not any(email.split("@")[0] in path.lower() for path in sent)


def test_erasure_deletes_hers_only_and_records_the_abuse_monitoring_window(
    standin: StandIn,
) -> None:
    hers, held = _hers(standin), len(standin.account.completions)
    kind = _connector(standin)

    with time_machine.travel(ERASED_ON, tick=True):
        receipt = kind.erase(identity_of(_subject()))

    assert receipt.per_location["completion"] == {"found": 3, "changed": 3}
    assert receipt.per_location["message"] == {"found": 12, "changed": 0}
    assert standin.account.deleted == hers
    assert len(standin.account.completions) == held - 3  # the others stay
    assert standin.stats.by_route["delete"] == 3
    (exemption,) = receipt.exemptions
    assert (exemption.location, exemption.count) == ("completion", 3)
    assert exemption.until == PERSISTS_UNTIL
    assert "abuse-monitoring logs" in exemption.basis
    assert "https://developers.openai.com/api/docs/guides/your-data" in (
        exemption.basis
    )

    # verified by listing again (by every identifier) and by id: 404
    check = kind.verify_erased(identity_of(_subject()), receipt)
    assert check.found == 0
    assert standin.stats.by_route["show"] == 3


def test_zero_data_retention_leaves_no_exemption(standin: StandIn) -> None:
    receipt = _connector(standin, abuse_monitoring_days=0).erase(
        identity_of(_subject())
    )

    assert receipt.per_location["completion"]["changed"] == 3
    assert receipt.exemptions == []


def test_verification_finds_what_the_bot_stored_after_the_erasure(
    standin: StandIn,
) -> None:
    kind = _connector(standin)
    who = _subject()
    receipt = kind.erase(identity_of(who))
    # her chat goes on while the erasure closes: tagged with her e-mail's digest
    _bot_stores(standin, {"email_sha256": email_digest(who["email"])})

    check = kind.verify_erased(identity_of(who), receipt)

    assert check.found == 1
    assert check.per_location["completion"]["found"] == 1


def test_a_second_erasure_finds_nothing_and_claims_no_new_window(
    standin: StandIn,
) -> None:
    kind = _connector(standin)
    kind.erase(identity_of(_subject()))

    again = kind.erase(identity_of(_subject()))

    assert again.found == 0
    assert again.exemptions == []
    assert standin.stats.by_route["delete"] == 3


def test_the_project_header_must_name_the_keys_project(standin: StandIn) -> None:
    assert _connector(standin, project=PROJECT).health().status.startswith("ok")

    with pytest.raises(ConnectorError) as refused:
        _connector(standin, project="proj_SomeOtherTeam").health()
    assert refused.value.permanent
    assert "auth refused (HTTP 401)" in refused.value.message

    with pytest.raises(ConfigError) as bad:
        kind_class("openai").validate_config(
            {**OPENAI.config(standin.url), "project": "my project"}
        )
    assert bad.value.field == "config.project"


def test_a_remaining_count_of_zero_waits_for_the_reset_duration(
    standin: StandIn,
) -> None:
    # 5 calls per 2 s, said only by the headers (reset "2s"), and the
    # connector believes it may make 6,000 a minute
    standin.per_window, standin.window_seconds = 5, 2.0

    found = list(
        _connector(standin, rate_limit_per_minute=6000).access(identity_of(_subject()))
    )

    assert len(found) == OPENAI.records(standin, SUBJECT)
    assert standin.stats.calls > 5
    assert standin.stats.refused_429 == 0


def test_the_task_api_and_evidence_pack_show_the_exemption_with_its_date(
    standin: StandIn, make_request: Any, make_api_client: Any
) -> None:
    Connector.objects.create(
        name="support-bot-openai",
        kind="openai",
        config=OPENAI.config(standin.url),
        secrets={"api_key": KEY},
        data_categories=["ai_conversation"],
        disclosure=DISCLOSURE,
    )
    who = _subject()
    with time_machine.travel(ERASED_ON, tick=True):
        request = make_request(
            kind="erasure", verified=True, identity={"email": who["email"]}
        )
        task = RequestTask.objects.get(request=request, action="erase")

        task_run(task_id=task.pk)

        task.refresh_from_db()
        pack = evidence_pack_generate(actor=actor_system("tests"), request=request)

    assert task.status == "succeeded", task.last_error
    assert task.exemptions == [
        {
            "location": "completion",
            "fields": [],
            "basis": task.exemptions[0]["basis"],
            "reason": "OpenAI's abuse-monitoring logs of the deleted completions",
            "count": 3,
            "until": PERSISTS_UNTIL,
        }
    ]
    _, http = make_api_client("requests:read")
    detail = http.get(f"/api/v1/requests/{request.public_id}/").json()
    (erase,) = [t for t in detail["tasks"] if t["action"] == "erase"]
    assert erase["exemptions"][0]["until"] == PERSISTS_UNTIL
    flat = flat_text(pack.content)
    assert shows(flat, f"may persist until {PERSISTS_UNTIL}")
    assert shows(flat, "abuse-monitoring logs")
    assert who["email"] not in flat
