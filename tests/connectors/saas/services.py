"""Each SaaS service the tests drive through its stand-in: how to start the
stand-in, configure a connector to it, pick a subject and count what access
must return, so the behaviour every service shares (auth, rate limit, 5xx,
down, revoked) is tested once for all of them (test_refusals.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.base import Identity
from connectors.kinds.saas import SaasConnector
from connectors.registry import kind_class

SUBJECT = 3  # the demo customer whose data the tests ask for


@dataclass(frozen=True)
class Service:
    kind: str
    start: Callable[..., Any]  # start(token=..., **options) -> a stand-in
    config: Callable[[str], dict[str, Any]]  # the stand-in's URL -> config
    secret: str
    subject: Callable[[Any, int], dict[str, Any]]  # (stand-in, number) -> record
    records: Callable[[Any, int], int]  # what access finds for that subject
    erased: Callable[[Any, dict[str, Any]], bool]  # the stand-in's own state
    # calls per window an access overruns, and calls an erasure makes before
    # its delete (HubSpot's walk is two searches, then the delete)
    overrun: int = 5
    before_delete: int = 4
    # the vendor destroys a deleted subject only after so many days (Intercom
    # 7): the erasure task waits on it, and `erased` means deleted, in grace
    grace_days: int = 0
    # the status the service refuses with over its budget (Salesforce: 403
    # REQUEST_LIMIT_EXCEEDED, not waited out: its own tests cover it)
    limit_status: int = 429
    # the secrets when they are more than `secret` (an OAuth2 app's id and
    # secret): the stand-in's token -> secrets
    secrets: Callable[[str], dict[str, str]] | None = None

    def connector(
        self, standin: Any, *, token: str, name: str = "", **extra: Any
    ) -> SaasConnector:
        cls = kind_class(self.kind)
        assert issubclass(cls, SaasConnector)
        return cls(
            name=name or f"{self.kind}-test",
            config={**self.config(standin.url), **extra},
            secrets=self.secrets_of(token),
        )

    def secrets_of(self, token: str) -> dict[str, str]:
        """The connector's secrets when the stand-in's token is `token`."""
        return self.secrets(token) if self.secrets else {self.secret: token}


def identity_of(record: dict[str, Any]) -> Identity:
    # asked for as a person types it: capitals in the e-mail
    phones = tuple(p for p in (record.get("phone"), record.get("mobile")) if p)
    return Identity(emails=(record["email"].upper(),), phones=phones)


def _zendesk() -> Service:
    from standins.zendesk import start
    from standins.zendesk.state import AGENT_EMAIL, user_id

    def records(standin: Any, number: int) -> int:
        uid = user_id(number)
        tickets = standin.account.tickets_of(uid)
        comments = sum(len(standin.account.comments[t["id"]]) for t in tickets)
        return 1 + len(standin.account.identities[uid]) + len(tickets) + comments

    return Service(
        kind="zendesk",
        start=start,
        config=lambda url: {"subdomain": "demo", "email": AGENT_EMAIL, "base_url": url},
        secret="api_token",
        subject=lambda standin, n: dict(standin.account.users[user_id(n)]),
        records=records,
        erased=lambda standin, user: user["id"] in standin.account.purged,
    )


def _freshdesk() -> Service:
    from datetime import UTC, datetime

    from standins.freshdesk import start
    from standins.freshdesk.state import contact_id

    def records(standin: Any, number: int) -> int:
        every = datetime(2000, 1, 1, tzinfo=UTC)
        tickets = standin.account.tickets_of(contact_id(number), updated_since=every)
        talks = sum(len(standin.account.conversations[t["id"]]) for t in tickets)
        return 1 + len(tickets) + talks

    return Service(
        kind="freshdesk",
        start=start,
        # a plan's share of 6,000 calls a minute: the default 200 (16 per
        # budget window) paces a test's erasure over seconds; the stand-in
        # allows 700 a minute, more than any test makes
        config=lambda url: {
            "domain": "demo",
            "base_url": url,
            "page_size": 2,
            "rate_limit_per_minute": 6000,
        },
        secret="api_key",
        subject=lambda standin, n: dict(standin.account.contacts[contact_id(n)]),
        records=records,
        erased=lambda standin, contact: contact["id"] in standin.account.hard_deleted,
    )


def _hubspot() -> Service:
    from standins.hubspot import start
    from standins.hubspot.state import contact_id

    def subject(standin: Any, number: int) -> dict[str, Any]:
        # the contact's properties, with its id (as HubSpot keeps them)
        return {
            "id": contact_id(number),
            **standin.account.contacts[contact_id(number)],
        }

    return Service(
        kind="hubspot",
        start=start,
        config=lambda url: {"base_url": url},
        secret="access_token",
        subject=subject,
        records=lambda standin, number: 1,  # the contact (its properties)
        erased=lambda standin, contact: contact["id"] in standin.account.gdpr_deleted,
        overrun=1,
        before_delete=1,
    )


def _intercom() -> Service:
    from standins.intercom import start
    from standins.intercom.state import contact_id

    def records(standin: Any, number: int) -> int:
        # the contact; each conversation, its source message and its parts
        talks = standin.account.conversations_of(contact_id(number))
        return 1 + sum(2 + talk["conversation_parts"]["total_count"] for talk in talks)

    def erased(standin: Any, contact: dict[str, Any]) -> bool:
        state = standin.account.summary()
        return contact["id"] in state["deleted_in_grace"] + state["destroyed"]

    return Service(
        kind="intercom",
        start=start,
        config=lambda url: {"base_url": url},
        secret="access_token",
        subject=lambda standin, n: dict(standin.account.contacts[contact_id(n)]),
        records=records,
        erased=erased,
        grace_days=7,
    )


def _gorgias() -> Service:
    from standins.gorgias import start
    from standins.gorgias.state import AGENT_EMAIL, customer_id

    def records(standin: Any, number: int) -> int:
        tickets = standin.account.tickets_of(customer_id(number))
        messages = sum(len(standin.account.messages_of(t["id"])) for t in tickets)
        return 1 + len(tickets) + messages

    def started(**options: Any) -> Any:
        # an account allowed 2,000 calls per 20 s, told as 6,000 a minute:
        # the API key's 40 (120 a minute) paces a test over seconds (the
        # rate tests set their own)
        return start(**{"per_window": 2000, **options})

    return Service(
        kind="gorgias",
        start=started,
        config=lambda url: {
            "domain": "demo",
            "email": AGENT_EMAIL,
            "base_url": url,
            "rate_limit_per_minute": 6000,
        },
        secret="api_key",
        subject=lambda standin, n: dict(standin.account.customers[customer_id(n)]),
        records=records,
        erased=lambda standin, customer: (
            customer["id"] in standin.account.deleted_customers
        ),
    )


def _salesforce() -> Service:
    from standins.salesforce import start
    from standins.salesforce.state import CLIENT_ID, contact_id

    def subject(standin: Any, number: int) -> dict[str, Any]:
        # the contact's fields, and the names identity_of reads
        row = standin.account.rows["Contact"][contact_id(number)]
        return {
            **row,
            "id": row["Id"],
            "email": row["Email"],
            "phone": row["Phone"],
            "mobile": row["MobilePhone"],
        }

    def records(standin: Any, number: int) -> int:
        org = standin.account
        cases = org.children("Case", contact_id(number))
        below = sum(
            len(org.children(kind, case))
            for case in cases
            for kind in ("EmailMessage", "CaseComment")
        )
        return 1 + len(cases) + below

    return Service(
        kind="salesforce",
        start=start,
        # the API's base URL comes from the token answer's instance_url
        # an org whose share of its daily allocation is 6,000 calls a minute
        # (the default 60 paces a test's 40 calls over 40 s)
        config=lambda url: {
            "my_domain": "acme",
            "token_url": f"{url}/services/oauth2/token",
            "rate_limit_per_minute": 6000,
        },
        secret="client_secret",
        secrets=lambda token: {"client_id": CLIENT_ID, "client_secret": token},
        subject=subject,
        records=records,
        erased=lambda standin, contact: contact["id"] in standin.account.hard_deleted,
        limit_status=403,
    )


def _helpscout() -> Service:
    from standins.helpscout import start
    from standins.helpscout.state import CLIENT_ID, customer_id

    def subject(standin: Any, number: int) -> dict[str, Any]:
        customer = standin.account.customers[customer_id(number)]
        return {
            "id": customer["id"],
            "name": f"{customer['firstName']} {customer['lastName']}",
            "email": customer["emails"][0]["value"],
        }

    def records(standin: Any, number: int) -> int:
        cid = customer_id(number)
        customer = standin.account.customers[cid]
        talks = standin.account.conversations_of(cid, every_status=True)
        threads = sum(len(standin.account.threads[c["id"]]) for c in talks)
        entries = len(customer["emails"]) + len(customer["phones"])
        return 1 + entries + len(talks) + threads

    return Service(
        kind="helpscout",
        start=start,
        # 6,000 a minute, as for Freshdesk (the stand-in allows 700)
        config=lambda url: {
            "base_url": f"{url}/v2",
            "token_url": f"{url}/v2/oauth2/token",
            "rate_limit_per_minute": 6000,
        },
        secret="client_secret",
        secrets=lambda token: {"client_id": CLIENT_ID, "client_secret": token},
        subject=subject,
        records=records,
        erased=lambda standin, customer: (
            customer["id"] in standin.account.deleted_customers
        ),
    )


def _front() -> Service:
    from connectors.demo.content import customer as demo_customer
    from standins.front import start
    from standins.front.state import contact_id

    def subject(standin: Any, number: int) -> dict[str, Any]:
        # her contact, with the e-mail and phone a person would type (Front
        # keeps them as handles: lower case, E.164)
        person = demo_customer(number)
        return {
            **standin.account.contacts[contact_id(number)],
            "email": person.email,
            "phone": person.phone,
        }

    def records(standin: Any, number: int) -> int:
        every = ["assigned", "unassigned", "archived", "trashed"]
        talks = standin.account.conversations_of(contact_id(number), every)
        held = sum(
            len(standin.account.messages[c["id"]])
            + len(standin.account.comments[c["id"]])
            for c in talks
        )
        return 1 + len(talks) + held

    def started(**options: Any) -> Any:
        # a company with the API add-on (600 a minute), so the tests are
        # not paced by the Starter plan's 50 (the rate tests set their own)
        return start(**{"per_window": 600, **options})

    return Service(
        kind="front",
        start=started,
        config=lambda url: {"base_url": url, "rate_limit_per_minute": 600},
        secret="api_token",
        subject=subject,
        records=records,
        erased=lambda standin, contact: (
            contact["id"] in standin.account.deleted_contacts
        ),
    )


def _model_provider(kind: str, start: Callable[..., Any], **options: Any) -> Service:
    """OpenAI and Azure OpenAI: the stored completions a support bot tagged."""
    from connectors.demo.content import customer as demo_customer
    from standins.openai.state import subject_id

    def subject(standin: Any, number: int) -> dict[str, Any]:
        # the customer as the bot tagged her: her id, and her e-mail's digest
        person = demo_customer(number)
        return {"id": subject_id(number), "email": person.email, "name": person.name}

    def records(standin: Any, number: int) -> int:
        chats = standin.account.completions_of(number)
        return sum(1 + len(standin.account.messages_of(c["id"])) for c in chats)

    def erased(standin: Any, who: dict[str, Any]) -> bool:
        # every completion tagged with her id is gone, and some were there
        tagged = standin.account.listed(metadata={"subject_id": who["id"]})
        return not tagged and bool(standin.account.deleted)

    return Service(
        kind=kind,
        start=start,
        subject=subject,
        records=records,
        erased=erased,
        **options,
    )


def _openai() -> Service:
    from standins.openai import start

    return _model_provider(
        "openai", start, config=lambda url: {"base_url": url}, secret="api_key"
    )


def _azure_openai() -> Service:
    from standins.azure_openai import start
    from standins.azure_openai.server import CLIENT_ID, TENANT_ID

    return _model_provider(
        "azure_openai",
        start,
        config=lambda url: {
            "resource": "acme-support-bot",
            "tenant_id": TENANT_ID,
            "base_url": f"{url}/openai",
            "token_url": f"{url}/oauth2/v2.0/token",
        },
        secret="client_secret",
        secrets=lambda token: {"client_id": CLIENT_ID, "client_secret": token},
    )


SERVICES: dict[str, Callable[[], Service]] = {
    "openai": _openai,
    "azure_openai": _azure_openai,
    "front": _front,
    "zendesk": _zendesk,
    "intercom": _intercom,
    "freshdesk": _freshdesk,
    "hubspot": _hubspot,
    "gorgias": _gorgias,
    "salesforce": _salesforce,
    "helpscout": _helpscout,
}
