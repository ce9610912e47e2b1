"""The salesforce kind against the Salesforce stand-in (a real HTTP server
on loopback keeping state): SOQL with escaped literals, nextRecordsUrl
pages, Bulk API 2.0 hardDelete jobs (deepest first, bounded poll, waiting
on the vendor, resumed on retry), verification by queryAll (the Recycle
Bin is not erasure), the Bulk API Hard Delete permission, rectification,
401 INVALID_SESSION_ID and 403 REQUEST_LIMIT_EXCEEDED."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.base import ConnectorError, Deferred, ErasureReceipt, Identity, Job
from connectors.choices import Action
from connectors.kinds.saas import SaasConnector
from connectors.kinds.saas.templates import render, soql
from standins.salesforce import StandIn
from standins.salesforce.server import MalformedQuery, parse
from standins.salesforce.state import contact_id
from tests.connectors.saas.services import SERVICES, identity_of
from tests.standin_fixtures import running

pytestmark = pytest.mark.django_db
TOKEN = "00DHs0000000001!AQ-session-token"
SALESFORCE = SERVICES["salesforce"]()


@pytest.fixture
def standin() -> Iterator[StandIn]:
    yield from running(SALESFORCE.start, TOKEN)


def connector(standin: StandIn, *, token: str = TOKEN, **extra: Any) -> SaasConnector:
    return SALESFORCE.connector(standin, token=token, **extra)


def contact(standin: StandIn, number: int = 3) -> dict[str, Any]:
    return SALESFORCE.subject(standin, number)


def _job(person: dict[str, Any], task: str = "task-1") -> Job:
    return Job(
        task_id=task,
        request_reference="DSR-2026-000001",
        action=Action.ERASE,
        identity=identity_of(person),
    )


def _jobs_of(standin: StandIn, kind: str) -> list[dict[str, Any]]:
    return [j for j in standin.account.jobs.values() if j["object"] == kind]


def test_health_and_a_bad_session_name_auth(standin: StandIn) -> None:
    assert connector(standin).health().status.startswith("ok")
    with pytest.raises(ConnectorError) as refused:
        connector(standin, token="expired").health()
    assert refused.value.permanent
    assert "auth refused (HTTP 401)" in refused.value.message


def test_access_reads_her_contact_cases_emails_and_comments(standin: StandIn) -> None:
    person = contact(standin)
    standin.page_size = 1  # a page a record: every list is paged

    records = list(connector(standin).access(identity_of(person)))

    by_location: dict[str, int] = {}
    for record in records:
        by_location[record.location] = by_location.get(record.location, 0) + 1
    assert by_location == {
        "contact": 1,
        "case": 2,
        "email_message": 4,
        "case_comment": 2,
    }
    assert len(records) == SALESFORCE.records(standin, 3)
    (found,) = [r for r in records if r.location == "contact"]
    assert found.key == person["id"]
    assert found.category == "contact"
    assert found.data["Email"] == person["Email"]
    assert "attributes" not in found.data
    assert {r.category for r in records if r.location == "email_message"} == {
        "support_message"
    }
    # cases and e-mails in pages of one: nextRecordsUrl was followed
    assert standin.stats.by_route["more"] >= 3


def test_soql_literals_are_escaped_so_a_hostile_address_stays_a_literal(
    standin: StandIn,
) -> None:
    assert soql('o\'hara\\x\n"y"') == 'o\\\'hara\\\\x\\n\\"y\\"'
    template = "SELECT Id FROM Contact WHERE Email = '{value|soql}'"
    hostile = "nobody' OR Email != 'x"
    fields, kind, where, values = parse(render(template, {"value": hostile}))
    assert (kind, where, values) == ("Contact", "Email", [hostile])
    with pytest.raises(MalformedQuery):  # what the unescaped value would send
        parse(template.replace("{value|soql}", hostile))

    # an e-mail with a quote and a backslash is found exactly, and only it
    odd = "o'hara\\quote@example.com"
    standin.account.rows["Contact"][contact_id(4)]["Email"] = odd
    kind_ = connector(standin)
    (found,) = [
        r for r in kind_.access(Identity(emails=(odd,))) if r.location == "contact"
    ]
    assert found.key == contact_id(4)
    assert list(kind_.access(Identity(emails=(hostile,)))) == []


def test_erase_hard_deletes_deepest_first_then_nothing_is_found(
    standin: StandIn,
) -> None:
    person = contact(standin)
    org = standin.account
    cases = org.children("Case", person["id"])
    kind = connector(standin)

    receipt = kind.erase(identity_of(person))

    assert receipt.per_location["contact"] == {"found": 1, "changed": 1}
    assert receipt.per_location["case"] == {"found": 2, "changed": 2}
    assert receipt.per_location["email_message"]["changed"] == 4
    # hard-deleted: not in the Recycle Bin, gone from queryAll
    assert {person["id"], *cases} <= org.hard_deleted
    assert org.recycle_bin == set()
    order = [job["object"] for job in org.jobs.values()]
    assert order.index("Case") > order.index("EmailMessage")
    assert order.index("Case") > order.index("CaseComment")
    assert order[-1] == "Contact"
    assert {job["operation"] for job in org.jobs.values()} == {"hardDelete"}
    outcome = kind.verify_erased(identity_of(person), receipt)
    assert outcome.found == 0
    assert set(outcome.per_location) >= {"contact", "case", "email_message"}
    assert standin.stats.by_route["query_all"] >= 4  # each type's ids asked
    assert list(kind.access(identity_of(person))) == []


def test_erase_twice_changes_nothing_the_second_time(standin: StandIn) -> None:
    person = contact(standin)
    kind = connector(standin)
    kind.erase(identity_of(person))
    jobs = len(standin.account.jobs)

    again = kind.erase(identity_of(person))

    assert again.changed == 0
    assert len(standin.account.jobs) == jobs
    assert standin.account.summary()["Contact"] == 9


def test_the_recycle_bin_is_not_erasure_queryall_still_finds_it(
    standin: StandIn,
) -> None:
    # a plain DELETE by id: the query no longer shows her, queryAll does
    person = contact(standin)
    standin.account.soft_delete("Contact", person["id"])
    receipt = ErasureReceipt(kind="salesforce", known={"ids.contact": (person["id"],)})

    outcome = connector(standin).verify_erased(identity_of(person), receipt)

    assert outcome.per_location["contact"]["found"] == 1


def test_without_the_hard_delete_permission_the_error_names_it(
    standin: StandIn,
) -> None:
    person = contact(standin)
    standin.account.hard_delete_permission = False

    with pytest.raises(ConnectorError) as refused:
        connector(standin).erase(identity_of(person))

    assert refused.value.permanent
    assert "Bulk API Hard Delete" in refused.value.message
    assert person["Email"] not in refused.value.message
    assert person["id"] in standin.account.rows["Contact"]


def test_a_job_not_done_in_its_bound_waits_on_the_vendor(standin: StandIn) -> None:
    # a contact with no cases: one job, the last; it outlasts the bound
    person = contact(standin)
    org = standin.account
    for case in org.children("Case", person["id"]):
        org.hard_delete("Case", case)
    org.job_seconds = 3600.0
    kind = connector(standin, job_wait_seconds=0)

    result = kind.run(_job(person), sink=None)  # type: ignore[arg-type]

    assert isinstance(result, Deferred)
    assert result.check_at is not None
    assert result.receipt is not None
    assert "still running" in result.note
    # not done before the vendor says so: the check still finds her
    assert kind.verify_erased(identity_of(person), result.receipt).found >= 1
    for job in org.jobs.values():
        job["ready_at"] = 0.0  # the vendor finishes
    assert kind.verify_erased(identity_of(person), result.receipt).found == 0
    assert person["id"] in org.hard_deleted


def test_a_slow_job_under_others_is_retried_and_resumed_not_restarted(
    standin: StandIn,
) -> None:
    person = contact(standin)
    org = standin.account
    org.job_seconds = 3600.0
    kind = connector(standin, job_wait_seconds=0)

    with pytest.raises(ConnectorError) as running_:
        kind.run(_job(person), sink=None)  # type: ignore[arg-type]
    assert not running_.value.permanent
    assert "still running" in running_.value.message
    assert len(_jobs_of(standin, "CaseComment")) == 1  # the deepest, first
    assert _jobs_of(standin, "Contact") == []  # waits for what is under her
    assert person["id"] in org.rows["Contact"]

    org.job_seconds = 0.0
    for job in org.jobs.values():
        job["ready_at"] = 0.0
    result = connector(standin).run(_job(person), sink=None)  # type: ignore[arg-type]

    assert isinstance(result, ErasureReceipt)
    assert len(_jobs_of(standin, "CaseComment")) == 1  # polled, not restarted
    assert person["id"] in org.hard_deleted


def test_rectify_patches_email_and_phone_and_says_what_it_could_not(
    standin: StandIn,
) -> None:
    person = contact(standin)

    outcome = connector(standin).rectify(
        identity_of(person),
        {"email": "new.address@example.org", "phone": "+44 7700 900123", "name": "X"},
    )

    assert outcome.per_location["contact"] == {"found": 1, "changed": 1}
    held = standin.account.rows["Contact"][person["id"]]
    assert held["Email"] == "new.address@example.org"
    assert held["Phone"] == "+44 7700 900123"
    assert held["LastName"] == person["LastName"]
    assert outcome.note == "not held by Salesforce: name"


def test_a_used_up_allocation_stops_before_the_org_refuses(standin: StandIn) -> None:
    person = contact(standin)
    standin.per_window = 3  # the day's allocation; Sforce-Limit-Info says so

    with pytest.raises(ConnectorError) as stopped:
        list(connector(standin).access(identity_of(person)))

    assert not stopped.value.permanent
    assert "rate limit" in stopped.value.message
    assert "api-usage=3/3" in stopped.value.message
    assert standin.stats.refused_429 == 0  # never refused: stopped first
    assert standin.stats.calls == 3


def test_request_limit_exceeded_is_a_transient_rate_limit_error(
    standin: StandIn,
) -> None:
    person = contact(standin)
    standin.per_window = 3
    standin.rate_headers = False  # the 403 comes unannounced

    with pytest.raises(ConnectorError) as refused:
        connector(standin).erase(identity_of(person))

    assert not refused.value.permanent
    assert "rate limit" in refused.value.message
    assert "403 REQUEST_LIMIT_EXCEEDED" in refused.value.message
    assert standin.stats.refused_429 == 1  # one refusal, not retried in the task
    assert person["id"] in standin.account.rows["Contact"]
