"""The audit chain: appends link up, and any tampering is caught."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from accounts.actors import actor_system
from audit.chain import GENESIS_HASH, hash_of
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import audit_batch, audit_record

pytestmark = pytest.mark.django_db


def _append(n: int) -> list[AuditEvent]:
    actor = actor_system("tests")
    return [
        audit_record(actor=actor, action="test.event", obj=None, data={"i": i})
        for i in range(n)
    ]


def _tamper(sql: str, params: list[object]) -> None:
    """Change rows behind the application's back, as an attacker with SQL would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only"
            )
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only"
            )


def test_events_link_to_their_predecessor() -> None:
    # when
    first, second, third = _append(3)
    # then
    assert first.sequence == 1
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert hash_of(third) == third.hash


def test_intact_chain_verifies_and_the_command_prints_count_and_head() -> None:
    events = _append(5)
    out = StringIO()

    call_command("verify_audit_chain", stdout=out)

    assert "5 events" in out.getvalue()
    assert events[-1].hash in out.getvalue()


def test_altered_event_is_named() -> None:
    _append(5)
    _tamper("UPDATE audit_auditevent SET data = %s WHERE sequence = 3", ['{"i": 99}'])

    report = audit_chain_verify()

    assert not report.ok
    assert report.first_bad_sequence == 3
    assert "altered" in report.problem
    with pytest.raises(CommandError, match="#3"):
        call_command("verify_audit_chain", stdout=StringIO())


def test_removed_event_is_caught() -> None:
    _append(5)
    _tamper("DELETE FROM audit_auditevent WHERE sequence = 2", [])

    report = audit_chain_verify()

    assert not report.ok
    assert report.first_bad_sequence == 3
    assert "removed" in report.problem


def test_removed_last_event_leaves_a_shorter_valid_chain_whose_head_differs() -> None:
    # A truncated tail cannot be seen from the rows alone; the evidence packs
    # record the head, which is how a missing tail is detected.
    events = _append(4)
    _tamper("DELETE FROM audit_auditevent WHERE sequence = 4", [])

    report = audit_chain_verify()

    assert report.ok
    assert report.count == 3
    assert report.head_hash != events[-1].hash


def test_reordered_events_are_caught() -> None:
    _append(4)
    # swap the contents of events 2 and 3, keeping the sequence numbers
    _tamper("UPDATE audit_auditevent SET sequence = -2 WHERE sequence = 2", [])
    _tamper("UPDATE audit_auditevent SET sequence = 2 WHERE sequence = 3", [])
    _tamper("UPDATE audit_auditevent SET sequence = 3 WHERE sequence = -2", [])

    report = audit_chain_verify()

    assert not report.ok
    assert report.first_bad_sequence == 2


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_database_refuses_update_and_delete() -> None:
    (event,) = _append(1)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()

    event.refresh_from_db()
    assert event.action == "test.event"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_concurrent_writers_never_fork_the_chain() -> None:
    # given 8 threads, each with its own connection, appending at once
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer() -> None:
        try:
            start.wait()
            for _ in range(10):
                with transaction.atomic():
                    audit_record(actor="system:tests", action="race", obj=None, data={})
        except BaseException as exc:  # report any failure to the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then every event has a unique predecessor and the chain verifies
    assert errors == []
    assert AuditEvent.objects.count() == 80
    assert AuditEvent.objects.values("prev_hash").distinct().count() == 80
    assert audit_chain_verify().ok


def test_the_stored_hash_is_the_chain_definition_for_awkward_data() -> None:
    # given data with non-ASCII text, nesting, a nested "sequence" key and
    # numbers: on PostgreSQL the database finishes the canonical text itself
    data = {
        "note": "Zoë – naïve café ✓",
        "nested": {"sequence": 7, "z": [1, 2.5, None, True]},
        "empty": "",
    }
    # when
    event = audit_record(actor="system:tests", action="odd.data", obj=None, data=data)
    # then the returned event and the row read back both hash as defined
    stored = AuditEvent.objects.get(pk=event.pk)
    assert event.hash == stored.hash == hash_of(stored)
    assert stored.data == data
    assert stored.sequence == event.sequence
    assert audit_chain_verify().ok


def test_a_batch_appends_its_events_in_order_when_it_ends() -> None:
    # given one event already in the chain
    (before,) = _append(1)
    actor = actor_system("tests")
    # when three more are recorded in one batch
    with transaction.atomic(), audit_batch():
        events = [
            audit_record(actor=actor, action=f"test.batch{i}", obj=None, data={"i": i})
            for i in range(3)
        ]
        # then nothing is appended before the batch ends
        assert AuditEvent.objects.count() == 1
        assert events[0].pk is None
    # and afterwards they follow the chain in the order recorded
    stored = list(AuditEvent.objects.order_by("sequence"))
    assert [e.action for e in stored] == [
        "test.event",
        "test.batch0",
        "test.batch1",
        "test.batch2",
    ]
    assert [e.sequence for e in events] == [2, 3, 4]
    assert events[0].prev_hash == before.hash
    assert [e.hash for e in events] == [hash_of(e) for e in stored[1:]]
    assert audit_chain_verify().ok


def _change_that_fails_in_a_batch() -> None:
    with transaction.atomic(), audit_batch():
        audit_record(actor=actor_system("tests"), action="test.lost", obj=None)
        raise ValueError("the change failed")


def test_a_batch_that_fails_appends_nothing() -> None:
    with pytest.raises(ValueError, match="the change failed"):
        _change_that_fails_in_a_batch()
    assert not AuditEvent.objects.filter(action="test.lost").exists()


def _batch_alone() -> None:
    with audit_batch():
        audit_record(actor=actor_system("tests"), action="test.alone", obj=None)


@pytest.mark.django_db(transaction=True)
def test_a_batch_outside_a_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        _batch_alone()
    assert not AuditEvent.objects.filter(action="test.alone").exists()
