"""The demo's breach register: one open incident, its 72-hour clock already
past the first warning, so the dashboard shows the register, the clock and
the forms in use. Generated from a fixed seed; idempotent (an existing demo
breach is left as it is)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.actors import actor_system
from breaches.models import Breach
from breaches.services.register import breach_create
from connectors.demo.content import customer

DEMO_TITLE = "Support transcripts export left readable by a contractor account"
SEED = 20261207
ACTOR = actor_system("seed_demo")


@dataclass(frozen=True)
class BreachDemo:
    reference: str
    created: bool


def breach_demo_seed() -> BreachDemo:
    """Record the demo breach, known about 30 hours ago, unless it exists."""
    existing = Breach.objects.filter(title=DEMO_TITLE).first()
    if existing is not None:
        return BreachDemo(existing.reference, False)
    rng = random.Random(SEED)
    subjects = rng.randrange(180, 420)
    records = subjects * rng.randrange(3, 9)
    sample = customer(rng.randrange(1, 300))
    aware_at = timezone.now() - timedelta(hours=30, minutes=rng.randrange(0, 50))
    breach = breach_create(
        actor=ACTOR,
        title=DEMO_TITLE,
        aware_at=aware_at,
        occurred_at=aware_at - timedelta(days=rng.randrange(2, 6)),
        description=(
            "A nightly export of AI-assistant conversations was written to a "
            "shared folder that a former contractor's account could still read. "
            f"Access logs show the folder was listed and {rng.randrange(3, 12)} "
            "files were downloaded before the account was disabled."
        ),
        data_categories=(
            "Names, e-mail addresses, order numbers and the free text of chat "
            "transcripts (which may include delivery addresses)."
        ),
        subject_categories="Customers who used the support chat in the last month.",
        approx_subjects=subjects,
        approx_records=records,
        contact_point=(settings.PRIVACY_OFFICER_EMAILS or ["dpo@example.com"])[0],
        consequences=(
            "Targeted phishing using order details; disclosure of what customers "
            f"told support (e.g. customer {sample.crm_id}'s delivery complaint)."
        ),
        measures="Contractor account disabled; folder permissions reviewed.",
        risk="risk",
        risk_reasons="Contact details with order context: a phishing risk.",
    )
    return BreachDemo(breach.reference, True)
