"""The whole incident as an evidence pack that verify_evidence accepts."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.actors import Actor
from audit.models import AuditEvent
from breaches.models import Breach, BreachPack
from breaches.services.notices import breach_notices_request
from breaches.services.packs import breach_pack_generate
from breaches.services.register import breach_notify_authority, breach_update
from tests.breaches.conftest import FRIDAY_5PM
from tests.evidence.pack_helpers import embedded, flat_text, shows

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(
    make_breach: Callable[..., Breach],
    officer_actor: Actor,
    django_capture_on_commit_callbacks: Any,
) -> Breach:
    """A high-risk breach, notified late with reasons, two subjects told."""
    breach = make_breach(
        risk="high_risk",
        data_categories="Names, e-mail addresses, chat transcripts",
        approx_subjects=2,
        approx_records=57,
        contact_point="dpo@support.example",
        consequences="Phishing using details from past conversations.",
        measures="Bucket made private; keys rotated; vendor audit booked.",
        recorded_at=FRIDAY_5PM.replace(day=10),
    )
    breach = breach_notify_authority(
        actor=officer_actor,
        breach=breach,
        notified_at=FRIDAY_5PM.replace(day=9, hour=19),
        reference="ICO-00112233",
        late_reason="The vendor confirmed the scope only on Monday evening.",
    )
    breach = breach_update(
        actor=officer_actor, breach=breach, subjects_decision="notify"
    )
    with django_capture_on_commit_callbacks(execute=True):
        breach_notices_request(
            actor=officer_actor,
            breach=breach,
            addresses="ada@example.org\ngrace@example.org",
        )
    return breach


def test_the_pack_verifies_and_carries_every_fact(
    incident: Breach, officer_actor: Actor, tmp_path: Path
) -> None:
    # when
    result = breach_pack_generate(actor=officer_actor, breach=incident)
    path = tmp_path / result.pack.filename
    path.write_bytes(result.content)
    out = StringIO()
    call_command("verify_evidence", str(path), stdout=out)
    # then verify_evidence accepts it
    assert out.getvalue().rstrip().endswith("OK")
    assert f"Evidence pack for breach {incident.reference}" in out.getvalue()
    # and its embedded facts are the incident's
    facts = embedded(result.content)["facts"]
    assert facts["kind"] == "breach"
    assert facts["breach"]["reference"] == incident.reference
    assert facts["article_33_3"]["approx_records"] == 57
    assert facts["clock"]["notify_by"] == "2026-03-09T17:00:00+00:00"
    assert facts["authority_notification"]["late"] is True
    assert facts["authority_notification"]["hours_after_awareness"] == 74.0
    assert [n["status"] for n in facts["notices"]] == ["sent", "sent"]
    actions = [e["action"] for e in facts["audit"]["events"]]
    assert actions[:2] == ["breach.recorded", "breach.authority_notified"]
    assert actions.count("breach.notice_sent") == 2
    # and the pages say it in words, without the subjects' addresses
    text = flat_text(result.content)
    assert shows(text, "The vendor confirmed the scope only on Monday evening.")
    assert shows(text, "ICO-00112233")
    assert "ada@example.org" not in text
    assert "ada@example.org" not in str(facts)
    # and the pack is recorded, its digest on the chain
    pack = BreachPack.objects.get()
    assert pack.sha256 == result.pack.sha256
    assert AuditEvent.objects.filter(
        action="evidence_pack.generated", data__sha256=pack.sha256
    ).exists()


def test_an_altered_pack_does_not_verify(
    incident: Breach, officer_actor: Actor, tmp_path: Path
) -> None:
    result = breach_pack_generate(actor=officer_actor, breach=incident)
    path = tmp_path / "altered.pdf"
    path.write_bytes(result.content + b"\n% appended\n")
    with pytest.raises(CommandError):
        call_command("verify_evidence", str(path), stdout=StringIO())
