"""The purge-run evidence pack, for a real run over a real SQLite store."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.actors import actor_system
from audit.services import audit_record
from connectors.demo.config import SQL_CONNECTOR_TABLES
from connectors.demo.content import StoreSize, customer
from connectors.demo.stores import build_sqlite
from connectors.models import Connector
from evidence.models import EvidencePack
from evidence.services import (
    evidence_pack_generate_for_run,
    evidence_pack_generate_on_run_end,
)
from retention.models import PurgeRun
from retention.services.holds import hold_subject_for_identity, legal_hold_place
from retention.services.policies import retention_policy_create
from retention.services.runs import purge_run_start
from tests.evidence.pack_helpers import embedded, flat_text, shows

pytestmark = pytest.mark.django_db
SYSTEM = actor_system("tests")
BASIS = "GDPR 17(3)(e): establishment of legal claims"


@pytest.fixture
def finished_run(tmp_path: Path) -> PurgeRun:
    """A real purge of old tickets, with one customer under a legal hold."""
    path = tmp_path / "helpdesk.db"
    build_sqlite(path, StoreSize(customers=20, tickets_per_customer=3))
    tables = copy.deepcopy(SQL_CONNECTOR_TABLES)
    for table in tables:  # every identity column needs an erasure strategy
        if isinstance(table.get("erase"), dict):
            for spec in (table.get("identity") or {}).values():
                column = spec["column"] if isinstance(spec, dict) else spec
                table["erase"].setdefault(column, "pseudonymize")
    connector = Connector.objects.create(
        name="helpdesk",
        kind="sql",
        config={"dsn": f"sqlite:///{path}", "tables": tables},
        data_categories=["contact", "support_ticket"],
        enabled=False,
    )
    policy = retention_policy_create(
        actor=SYSTEM,
        name="Old tickets",
        connector=connector,
        table="tickets",
        age_column="created_at",
        max_age_days=(timezone.now() - datetime(2025, 3, 1, tzinfo=UTC)).days,
        action="delete",
        fields=[],
        batch_size=10,
    )
    subject = hold_subject_for_identity(
        actor=SYSTEM, identity={"email": customer(1).email}
    )
    legal_hold_place(
        actor=SYSTEM,
        scope="subject",
        subject=subject,
        reason="litigation: order dispute",
        legal_basis=BASIS,
    )
    return purge_run_start(actor=SYSTEM, policy=policy)


def test_purge_pack_shows_policy_cutoff_counts_holds_and_hashes(
    finished_run: PurgeRun,
) -> None:
    assert finished_run.status == "succeeded"
    assert finished_run.totals()["changed"] > 0

    result = evidence_pack_generate_for_run(actor=SYSTEM, run=finished_run)

    flat = flat_text(result.content)
    totals = finished_run.totals()
    for phrase in (
        "Old tickets",
        "Retention purge run",
        "Succeeded",
        str(finished_run.public_id),
        *finished_run.tables,
        f"{totals['changed']} of {totals['examined']}",
        BASIS,
        "litigation: order dispute",
    ):
        assert shows(flat, phrase), phrase
    facts = embedded(result.content)["facts"]
    assert facts["run"]["cutoff"] == finished_run.cutoff.isoformat()
    assert facts["totals"] == totals
    assert facts["holds"][0]["legal_basis"] == BASIS
    assert facts["settings"]["policy"]["version"] == finished_run.policy_version
    actions = {e["action"] for e in facts["audit"]["events"]}
    assert {"retention.run_started", "retention.run_succeeded"} <= actions
    assert "retention.hold_placed" in actions
    assert "retention.policy_created" in actions
    for event in facts["audit"]["events"]:
        assert event["hash"] in flat
    assert result.pack.chain_head_hash in flat


def test_purge_pack_verifies(finished_run: PurgeRun, tmp_path: Path) -> None:
    result = evidence_pack_generate_for_run(actor=SYSTEM, run=finished_run)
    path = tmp_path / "run.pdf"
    path.write_bytes(result.content)
    out = StringIO()

    call_command("verify_evidence", str(path), stdout=out)

    assert out.getvalue().rstrip().endswith("OK")


def test_a_finished_run_is_packed_once(finished_run: PurgeRun) -> None:
    first = evidence_pack_generate_on_run_end(run_id=finished_run.pk)
    second = evidence_pack_generate_on_run_end(run_id=finished_run.pk)

    assert (first, second) == ("generated", "exists")
    assert EvidencePack.objects.filter(purge_run=finished_run).count() == 1


def test_api_sends_the_run_pack_with_retention_read(
    finished_run: PurgeRun, make_api_client
) -> None:
    _, http = make_api_client("retention:read")

    response = http.get(f"/api/v1/retention/runs/{finished_run.public_id}/evidence.pdf")

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    _, other = make_api_client("requests:read")
    denied = other.get(f"/api/v1/retention/runs/{finished_run.public_id}/evidence.pdf")
    assert denied.status_code == 403


def test_dashboard_sends_the_run_pack_to_an_auditor(
    finished_run: PurgeRun, auditor
) -> None:
    client = Client()
    client.force_login(auditor)

    response = client.get(
        f"/dashboard/retention/runs/{finished_run.public_id}/evidence.pdf"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert shows(flat_text(response.content), "Old tickets")


def test_purge_pack_keeps_hold_events_recorded_before_holds_moved_to_dsr(
    finished_run: PurgeRun,
) -> None:
    # given an event of the run's hold stored under its former app's label
    # (LegalHold lived in retention; the audit chain is never rewritten)
    hold_id = finished_run.holds[0]["id"]
    former = SimpleNamespace(
        _meta=SimpleNamespace(label_lower="retention.legalhold"), public_id=hold_id
    )
    audit_record(actor=SYSTEM, action="retention.hold_reviewed", obj=former)
    # when
    result = evidence_pack_generate_for_run(actor=SYSTEM, run=finished_run)
    # then the pack cites it beside the events stored as dsr.legalhold
    events = embedded(result.content)["facts"]["audit"]["events"]
    types = {e["object_type"] for e in events if e["object_id"] == hold_id}
    assert types == {"retention.legalhold", "dsr.legalhold"}
