"""The demo's record: populated from the demo stores, one realistic gap."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.models import AuditEvent
from connectors.demo.config import demo_stores_seed
from records.demo import records_demo_seed
from records.selectors.record import record_build

pytestmark = pytest.mark.django_db


def test_the_demo_record_is_complete_but_for_one_gap(tmp_path: Path) -> None:
    # given the demo stores
    demo_stores_seed(tmp_path)

    # when
    first = records_demo_seed()
    events = AuditEvent.objects.count()
    second = records_demo_seed()

    # then the one gap is the helpdesk's unenforced retention
    record = record_build()
    assert [(g.subject, g.kind) for g in record.gaps] == [
        ("helpdesk", "retention_not_enforced")
    ]
    # every consent purpose and every store purpose is an activity with stores
    # or details, subjects, categories and retention
    assistant = next(a for a in record.activities if a.key == "purpose:ai_processing")
    assert assistant.stores == ("chat-transcripts", "support-memory")
    assert all(a.data_categories and a.retention for a in record.activities)
    assert {s.name for s in record.data_map.stores} == {
        "helpdesk",
        "chat-transcripts",
        "support-memory",
    }
    # and seeding again changes nothing
    assert first.officer_part
    assert first.links == ["chat-transcripts", "support-memory"]
    assert not second.officer_part
    assert second.links == []
    assert AuditEvent.objects.count() == events
