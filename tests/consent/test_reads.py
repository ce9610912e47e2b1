"""What the dashboard reads: consent rates per day, open assessments."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from accounts.actors import actor_for_subject, actor_for_user
from consent.selectors import consent_rates, erasure_assessments_open
from privacydesk.errors import NotPermitted
from subjects.claims import identity_claims
from subjects.services import subject_get_or_create

pytestmark = pytest.mark.django_db


def _subject(email: str):
    return subject_get_or_create(claims=identity_claims({"email": email}))


def test_rates_count_grants_and_withdrawals_per_purpose_per_day(choose, auditor):
    ada, bob, cy = (_subject(f"{name}@x.example") for name in ("ada", "bob", "cy"))
    with time_machine.travel(datetime(2026, 11, 20, 10, tzinfo=UTC), tick=False):
        choose(ada, "ai_training", True)
        choose(bob, "ai_training", True)
        choose(cy, "ai_training", False)
    with time_machine.travel(datetime(2026, 11, 21, 10, tzinfo=UTC), tick=False):
        choose(ada, "ai_training", False)
        choose(ada, "marketing_email", True)

    with time_machine.travel(datetime(2026, 11, 22, 10, tzinfo=UTC), tick=False):
        rates = consent_rates(actor=actor_for_user(auditor), days=30)

    rows = [(r.day.isoformat(), r.purpose, r.grants, r.withdrawals) for r in rates]
    assert rows == [
        ("2026-11-20", "ai_training", 2, 1),
        ("2026-11-21", "ai_training", 0, 1),
        ("2026-11-21", "marketing_email", 1, 0),
    ]
    assert rates[0].rate == pytest.approx(2 / 3)


def test_open_assessments_are_listed_for_staff_only(ada, choose, auditor):
    choose(ada, "ai_training", True)
    choose(ada, "ai_training", False)

    assert erasure_assessments_open(actor=actor_for_user(auditor)).count() == 1
    with pytest.raises(NotPermitted):
        erasure_assessments_open(actor=actor_for_subject("x"))
