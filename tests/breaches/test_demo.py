"""The demo's open breach: generated once, its clock past the first warning."""

from __future__ import annotations

import pytest

from breaches.choices import ClockState
from breaches.clock import breach_clock
from breaches.demo import breach_demo_seed
from breaches.models import Breach

pytestmark = pytest.mark.django_db


def test_the_demo_breach_is_seeded_once_and_warns() -> None:
    first = breach_demo_seed()
    second = breach_demo_seed()

    assert first.created
    assert not second.created
    assert second.reference == first.reference
    breach = Breach.objects.get()
    assert breach.is_open
    assert breach_clock(breach).state == ClockState.WARN_48
    assert breach.approx_records is not None
    assert breach.approx_subjects is not None
    assert breach.approx_records >= breach.approx_subjects
