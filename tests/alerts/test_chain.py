"""The scheduled chain check: a tampered audit row raises a critical alert."""

from __future__ import annotations

import pytest

from accounts.actors import actor_system
from alerts.choices import AlertRule, Severity, SubjectKind
from alerts.models import MonitorState
from alerts.tasks import audit_chain_check_task
from audit.models import AuditEvent
from audit.services import audit_record
from tests.alerts.conftest import alerts_of
from tests.audit.test_chain import _tamper

pytestmark = pytest.mark.django_db


def _events(n: int) -> None:
    for i in range(n):
        audit_record(
            actor=actor_system("tests"), action="test.event", obj=None, data={"i": i}
        )


def test_an_intact_chain_raises_nothing_and_is_noted() -> None:
    _events(4)
    assert audit_chain_check_task() is True
    assert alerts_of(AlertRule.CHAIN_BROKEN) == []
    state = MonitorState.objects.get()
    assert state.chain_ok is True
    assert state.chain_events == 4


def test_a_tampered_row_raises_one_critical_alert() -> None:
    # given an event altered behind the application's back
    _events(5)
    _tamper("UPDATE audit_auditevent SET data = %s WHERE sequence = 3", ['{"i": 99}'])
    # when the scheduled check runs, twice
    assert audit_chain_check_task() is False
    audit_chain_check_task()
    # then one alert names the first bad event
    [alert] = alerts_of(AlertRule.CHAIN_BROKEN)
    assert alert.severity == Severity.CRITICAL
    assert (alert.subject_kind, alert.subject) == (SubjectKind.CHAIN, "3")
    assert "altered" in alert.details["problem"]
    state = MonitorState.objects.get()
    assert state.chain_ok is False
    assert state.chain_events == 2
    # and raising it was itself recorded on the chain
    assert AuditEvent.objects.filter(action="alert.raised").count() == 1
