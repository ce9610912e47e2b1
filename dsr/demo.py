"""Deterministic demo data: staff logins and a dozen requests in every state.

Everything is made through the real services, so the demo requests carry
deadlines, history and audit events exactly as real ones do. The people are
invented (example.com / example.org addresses, Ofcom's and the NANP's drama
phone ranges) and drawn from `random.Random(2026)`, so every seed of an empty
database produces the same names. Re-seeding skips what exists already.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from accounts.actors import Actor, actor_system
from accounts.choices import Role
from accounts.services import staff_set_role
from audit.services import audit_record
from dsr.choices import Channel, Regime, RequestKind, RequestStatus
from dsr.clock import controller_zone, local_today
from dsr.models import Request
from dsr.services.clock import request_extend
from dsr.services.requests import (
    request_add_note,
    request_cancel,
    request_close,
    request_create,
    request_reject,
)
from subjects.choices import IdentifierKind
from subjects.selectors import subject_find

DEMO_PASSWORD = "privacydesk-demo"
SEED = 2026
SEED_ACTOR_NAME = "seed_demo"


@dataclass(frozen=True)
class DemoStaff:
    username: str
    role: Role
    label: str


DEMO_STAFF: tuple[DemoStaff, ...] = (
    DemoStaff("officer", Role.PRIVACY_OFFICER, "privacy officer: every action"),
    DemoStaff("agent", Role.SUPPORT_AGENT, "support agent: create and view"),
    DemoStaff("auditor", Role.AUDITOR, "auditor: read-only, audit log"),
    DemoStaff("admin", Role.ADMIN, "administrator, also /admin/"),
)

_FIRST_NAMES = (
    "maria", "james", "aisha", "lukas", "sofia", "oliver", "chen", "amelia",
    "mateo", "fatima", "noah", "ingrid", "kwame", "elena", "tomas", "priya",
)  # fmt: skip
_LAST_NAMES = (
    "garcia", "smith", "khan", "muller", "rossi", "brown", "wei", "jones",
    "fernandez", "haddad", "taylor", "larsen", "mensah", "popescu", "novak", "patel",
)  # fmt: skip

_DETAILS = {
    RequestKind.ACCESS: "Please send me a copy of everything your support chatbot "
    "and helpdesk hold about me, including the conversation logs.",
    RequestKind.ERASURE: "I closed my account. Please delete my data, including "
    "the chat transcripts and call recordings.",
    RequestKind.RECTIFICATION: "My name and address are wrong in your records.",
    RequestKind.PORTABILITY: "I would like my order history and support tickets "
    "in a machine-readable format.",
    RequestKind.RESTRICTION: "Please stop using my conversations while you check "
    "whether they are accurate.",
    RequestKind.OBJECTION: "I object to my chats being used to train your AI models.",
}


@dataclass(frozen=True)
class Scenario:
    """Where one demo request should end up; names are drawn separately."""

    kind: RequestKind
    regime: Regime
    channel: Channel
    days_ago: int
    outcome: str  # a RequestStatus, or "extended" / "noted" / "overdue"


# A spread over kinds, regimes, channels and states. Ages are chosen so the
# queue shows fresh, due-soon, extended and overdue requests on any day.
SCENARIOS: tuple[Scenario, ...] = (
    Scenario(RequestKind.ACCESS, Regime.GDPR, Channel.PORTAL, 1, "received"),
    Scenario(RequestKind.ERASURE, Regime.UK_GDPR, Channel.PORTAL, 2, "received"),
    Scenario(RequestKind.ACCESS, Regime.UK_GDPR, Channel.API, 4, "in_progress"),
    Scenario(RequestKind.RECTIFICATION, Regime.GDPR, Channel.DASHBOARD, 8, "noted"),
    Scenario(RequestKind.PORTABILITY, Regime.CCPA, Channel.API, 12, "in_progress"),
    Scenario(RequestKind.OBJECTION, Regime.UK_GDPR, Channel.PORTAL, 20, "extended"),
    Scenario(RequestKind.RESTRICTION, Regime.GDPR, Channel.DASHBOARD, 9, "rejected"),
    Scenario(RequestKind.ERASURE, Regime.GDPR, Channel.API, 45, "overdue"),
    Scenario(RequestKind.ACCESS, Regime.CCPA, Channel.PORTAL, 30, "completed"),
    Scenario(RequestKind.ERASURE, Regime.CCPA, Channel.API, 15, "in_progress"),
    Scenario(RequestKind.ACCESS, Regime.GDPR, Channel.DASHBOARD, 3, "cancelled"),
    Scenario(RequestKind.RECTIFICATION, Regime.UK_GDPR, Channel.PORTAL, 25, "due_soon"),
)


@dataclass(frozen=True)
class DemoRequestSpec:
    scenario: Scenario
    identity: dict[str, Any]
    received_hour: int
    received_minute: int
    corrections: dict[str, str] | None = None

    @property
    def email(self) -> str:
        return str(self.identity["email"])


@dataclass
class DemoSummary:
    users_created: list[str] = field(default_factory=list)
    users_existing: list[str] = field(default_factory=list)
    requests_created: list[str] = field(default_factory=list)
    requests_existing: int = 0
    statuses: Counter[str] = field(default_factory=Counter)


def demo_request_specs() -> list[DemoRequestSpec]:
    """The demo requests: the same list on every call and every machine."""
    rng = random.Random(SEED)
    firsts = rng.sample(_FIRST_NAMES, len(SCENARIOS))
    lasts = rng.sample(_LAST_NAMES, len(SCENARIOS))
    specs = []
    for scenario, first, last in zip(SCENARIOS, firsts, lasts, strict=True):
        domain = rng.choice(("example.com", "example.org"))
        identity: dict[str, Any] = {"email": f"{first}.{last}@{domain}"}
        if scenario.regime == Regime.CCPA:
            identity["phone"] = f"+1 202 555 01{rng.randint(0, 99):02d}"
        elif rng.random() < 0.5:
            identity["phone"] = f"+44 20 7946 0{rng.randint(0, 999):03d}"
        if rng.random() < 0.5:
            identity["customer_ids"] = {"crm": f"C-{rng.randint(10000, 99999)}"}
        corrections = None
        if scenario.kind == RequestKind.RECTIFICATION:
            corrections = {
                "name": f"{first.title()} {last.title()}",
                "address": f"{rng.randint(1, 120)} Example Street, London",
            }
        specs.append(
            DemoRequestSpec(
                scenario=scenario,
                identity=identity,
                received_hour=rng.randint(8, 18),
                received_minute=rng.randint(0, 59),
                corrections=corrections,
            )
        )
    return specs


def _received_at(spec: DemoRequestSpec) -> datetime:
    day = local_today() - timedelta(days=spec.scenario.days_ago)
    # Every scenario is at least a day old, so this is never in the future.
    return datetime.combine(
        day, time(spec.received_hour, spec.received_minute), tzinfo=controller_zone()
    )


def _exists(spec: DemoRequestSpec, actor: Actor) -> bool:
    subject = subject_find(claims=[(IdentifierKind.EMAIL, "", spec.email)])
    return (
        subject is not None and subject.requests.filter(created_by=actor.ref).exists()
    )


def _seed_request(spec: DemoRequestSpec, actor: Actor) -> Request:
    scenario = spec.scenario
    request = request_create(
        actor=actor,
        kind=scenario.kind,
        regime=scenario.regime,
        channel=scenario.channel,
        identity=spec.identity,
        details=_DETAILS[scenario.kind],
        corrections=spec.corrections,
        received_at=_received_at(spec),
        verified=scenario.outcome != RequestStatus.RECEIVED,
    )
    if scenario.outcome == "extended":
        request = request_extend(
            actor=actor,
            request=request,
            reason="Complex request: the customer used five support channels and "
            "the call recordings need review before we can answer.",
        )
    elif scenario.outcome == RequestStatus.REJECTED:
        request = request_reject(
            actor=actor,
            request=request,
            reason="We could not find any account or conversation for the details "
            "given, so there is no processing to restrict (Art. 11(2) GDPR).",
        )
    elif scenario.outcome == RequestStatus.COMPLETED:
        request = request_close(
            actor=actor, request=request, outcome=RequestStatus.COMPLETED
        )
    elif scenario.outcome == RequestStatus.CANCELLED:
        request = request_cancel(
            actor=actor,
            request=request,
            reason="The customer withdrew the request by phone.",
        )
    elif scenario.outcome == "noted":
        request_add_note(
            actor=actor,
            request=request,
            text="Customer called: the new address applies to billing as well.",
        )
    return request


def _seed_staff(summary: DemoSummary, actor: Actor) -> None:
    for staff in DEMO_STAFF:
        if User.objects.filter(username=staff.username).exists():
            summary.users_existing.append(staff.username)
            continue
        with transaction.atomic():
            if staff.role == Role.ADMIN:
                user = User.objects.create_superuser(
                    staff.username, f"{staff.username}@example.org", DEMO_PASSWORD
                )
            else:
                user = User.objects.create_user(
                    staff.username,
                    f"{staff.username}@example.org",
                    DEMO_PASSWORD,
                    is_staff=True,
                )
            staff_set_role(user=user, role=staff.role)
            audit_record(
                actor=actor, action="staff.created", obj=user, data={"role": staff.role}
            )
        summary.users_created.append(staff.username)


def demo_seed() -> DemoSummary:
    """Create what is missing of the demo staff and requests; running it twice
    changes nothing. The demo stores are connectors.demo's (the seed_demo
    command seeds them after these requests)."""
    actor = actor_system(SEED_ACTOR_NAME)
    summary = DemoSummary()
    _seed_staff(summary, actor)
    for spec in demo_request_specs():
        if _exists(spec, actor):
            summary.requests_existing += 1
            continue
        # One demo request and all its transitions land together or not at all.
        with transaction.atomic():
            request = _seed_request(spec, actor)
        summary.requests_created.append(request.reference)
    summary.statuses = Counter(
        Request.objects.filter(created_by=actor.ref).values_list("status", flat=True)
    )
    return summary
