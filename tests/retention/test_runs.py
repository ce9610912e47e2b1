"""Runs as rows: resuming after a crash, refusing a second run, the command,
schedules and versions."""

from __future__ import annotations

import math
import threading
import time
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.actors import actor_system
from audit.models import AuditEvent
from connectors.models import Connector
from privacydesk.errors import IllegalTransition, ValidationFailed
from retention.choices import RunStatus
from retention.models import PurgeRun, RetentionPolicy
from retention.selectors import policy_next_run_at
from retention.services.policies import (
    retention_builtin_ensure,
    retention_policy_update,
)
from retention.services.runs import purge_run_resume, purge_run_start
from tests.retention.conftest import Helpdesk, make_connector, make_policy

SYSTEM = actor_system("tests")


def _old_tickets(store: Helpdesk) -> list[int]:
    return [
        row[0]
        for row in store.rows(
            f"SELECT id FROM tickets WHERE {store.age()} ORDER BY id",
            [store.cutoff_param()],
        )
    ]


def _messages_of(store: Helpdesk, tickets: list[int]) -> int:
    return sum(
        store.value("SELECT COUNT(*) FROM messages WHERE ticket_id = ?", [t])
        for t in tickets
    )


class WorkerKilled(BaseException):
    """What the process sees when it is killed mid-run: nothing is caught."""


@pytest.mark.django_db
def test_a_run_stopped_by_a_lock_in_batch_3_resumes_without_redoing_work(
    helpdesk: Helpdesk,
    connector: Connector,
    settings: Any,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given another writer takes the store's lock after our second batch
    settings.RETENTION_LOCK_TIMEOUT_MS = 300
    expired = _old_tickets(helpdesk)
    expired_messages = _messages_of(helpdesk, expired)
    policy = make_policy(connector, batch_size=10)
    blocker: dict[str, Any] = {}

    def other_writer(run: PurgeRun) -> None:
        if run.batches == 2:
            blocker["connection"] = helpdesk.block_writes(
                after_key=run.checkpoint["after_key"]
            )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        run = purge_run_start(actor=SYSTEM, policy=policy, on_batch=other_writer)

    # then the run stopped in batch 3, kept what it did, and alerted
    assert run.status == RunStatus.INTERRUPTED
    assert run.batches == 2
    assert run.tables["tickets"]["changed"] == 20
    assert run.checkpoint["after_key"] == expired[19]
    assert run.errors[-1]["permanent"] is False
    present = {row[0] for row in helpdesk.rows("SELECT id FROM tickets")}
    assert not present & set(expired[:20])
    assert set(expired[20:]) <= present
    assert len(mailoutbox) == 1
    assert "interrupted" in mailoutbox[0].subject

    # when the other writer is done and the policy runs again
    blocker["connection"].close()
    resumed = purge_run_start(actor=SYSTEM, policy=policy)

    # then the same run finished the rest, counting every row once
    assert resumed.pk == run.pk
    assert resumed.status == RunStatus.SUCCEEDED
    assert resumed.resumed_count == 1
    assert resumed.batches == math.ceil(len(expired) / 10)
    assert resumed.tables["tickets"]["changed"] == len(expired)
    assert resumed.tables["messages"]["changed"] == expired_messages
    assert not {row[0] for row in helpdesk.rows("SELECT id FROM tickets")} & set(
        expired
    )
    assert PurgeRun.objects.filter(policy=policy).count() == 1
    assert AuditEvent.objects.filter(action="retention.run_resumed").count() == 1


@pytest.mark.django_db
def test_a_run_whose_worker_died_blocks_others_until_stale_then_resumes(
    helpdesk: Helpdesk, connector: Connector, time_machine: Any
) -> None:
    # given a run killed after its second batch leaves a "running" row
    expired = _old_tickets(helpdesk)
    policy = make_policy(connector, batch_size=10)

    def kill(run: PurgeRun) -> None:
        if run.batches == 2:
            raise WorkerKilled

    with pytest.raises(WorkerKilled):
        purge_run_start(actor=SYSTEM, policy=policy, on_batch=kill)
    dead = PurgeRun.objects.get(policy=policy)
    assert dead.status == RunStatus.RUNNING

    # when another run starts while the dead one still looks alive
    with pytest.raises(IllegalTransition, match="already running"):
        purge_run_start(actor=SYSTEM, policy=policy)

    # then nothing else started
    assert PurgeRun.objects.filter(policy=policy).count() == 1

    # when it has been silent past the stale limit
    time_machine.move_to(timezone.now() + timedelta(minutes=20), tick=False)
    run = purge_run_start(actor=SYSTEM, policy=policy)

    # then it was marked interrupted and resumed from its checkpoint
    assert run.pk == dead.pk
    assert run.status == RunStatus.SUCCEEDED
    assert run.resumed_count == 1
    assert run.tables["tickets"]["changed"] == len(expired)
    assert "worker lost" in run.errors[0]["message"]


@pytest.mark.django_db(transaction=True)
def test_a_second_run_of_a_policy_is_refused_while_the_first_runs(
    postgres_helpdesk: Helpdesk, settings: Any
) -> None:
    # given a run waiting on rows another writer holds
    settings.RETENTION_LOCK_TIMEOUT_MS = 20_000
    store = postgres_helpdesk
    policy = make_policy(make_connector(store), batch_size=10)
    expired = _old_tickets(store)
    locker = store.block_writes(after_key=0)
    outcome: dict[str, Any] = {}

    def first_run() -> None:
        try:
            outcome["run"] = purge_run_start(actor=SYSTEM, policy=policy)
        finally:
            connection.close()

    thread = threading.Thread(target=first_run)
    thread.start()
    deadline = time.monotonic() + 15
    while not PurgeRun.objects.filter(status=RunStatus.RUNNING).exists():
        assert time.monotonic() < deadline, "the first run never started"
        time.sleep(0.05)

    # when
    with pytest.raises(IllegalTransition, match="already running"):
        purge_run_start(actor=SYSTEM, policy=policy)

    # then only the first run exists, and it finishes once the lock goes
    assert PurgeRun.objects.count() == 1
    locker.close()
    thread.join(timeout=30)
    assert outcome["run"].status == RunStatus.SUCCEEDED
    assert outcome["run"].tables["tickets"]["changed"] == len(expired)


@pytest.mark.django_db
def test_the_database_refuses_two_running_real_runs_of_one_policy(
    helpdesk: Helpdesk, connector: Connector
) -> None:
    # given
    policy = make_policy(connector)
    now = timezone.now()
    values = {
        "policy": policy,
        "status": RunStatus.RUNNING,
        "cutoff": now,
        "started_at": now,
        "heartbeat_at": now,
        "triggered_by": "tests",
    }
    PurgeRun.objects.create(**values)
    PurgeRun.objects.create(**values, dry_run=True)  # dry runs may overlap

    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        PurgeRun.objects.create(**values)


@pytest.mark.django_db
def test_a_failed_run_resumes_from_its_checkpoint_on_request(
    helpdesk: Helpdesk, connector: Connector, settings: Any
) -> None:
    # given a run stopped by a lock, recorded as failed by an operator's view
    settings.RETENTION_LOCK_TIMEOUT_MS = 300
    expired = _old_tickets(helpdesk)
    policy = make_policy(connector, batch_size=10)
    blocker: dict[str, Any] = {}

    def other_writer(run: PurgeRun) -> None:
        if run.batches == 1:
            blocker["connection"] = helpdesk.block_writes(
                after_key=run.checkpoint["after_key"]
            )

    run = purge_run_start(actor=SYSTEM, policy=policy, on_batch=other_writer)
    blocker["connection"].close()
    PurgeRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)
    run.refresh_from_db()

    # when
    run = purge_run_resume(actor=SYSTEM, run=run)

    # then
    assert run.status == RunStatus.SUCCEEDED
    assert run.tables["tickets"]["changed"] == len(expired)

    # and a finished run does not resume again
    with pytest.raises(IllegalTransition):
        purge_run_resume(actor=SYSTEM, run=run)


@pytest.mark.django_db
def test_the_command_shows_progress_and_a_summary_and_a_dry_run_changes_nothing(
    helpdesk: Helpdesk, connector: Connector
) -> None:
    # given
    policy = make_policy(connector, name="Old tickets", batch_size=10)
    expired = _old_tickets(helpdesk)
    before = helpdesk.everything()
    out = StringIO()

    # when
    call_command("retention_run", "--policy", "Old tickets", "--dry-run", stdout=out)

    # then
    text = out.getvalue()
    assert helpdesk.everything() == before
    assert f"Old tickets: {len(expired)} rows would change" in text
    assert "rows/s" in text
    assert "Policy" in text
    assert "Examined" in text
    assert "Held" in text
    summary = [line.split() for line in text.splitlines()]
    assert ["Old", "tickets", "messages"] == summary[-2][:3]
    assert summary[-1][:2] == ["tickets", str(len(expired))]
    assert PurgeRun.objects.get(policy=policy).dry_run is True

    # when every enabled policy runs for real
    out = StringIO()
    call_command("retention_run", stdout=out)

    # then both the store's policy and the built-in one ran
    text = out.getvalue()
    assert "Privacy Desk requests (built-in)" in text
    assert f"Old tickets: {len(expired)} rows changed" in text
    assert not {row[0] for row in helpdesk.rows("SELECT id FROM tickets")} & set(
        expired
    )


@pytest.mark.django_db
def test_the_command_names_an_unknown_policy() -> None:
    with pytest.raises(CommandError, match="no policy named"):
        call_command("retention_run", "--policy", "nope", stdout=StringIO())


@pytest.mark.django_db
def test_a_policy_is_scheduled_daily_at_3_by_default_and_its_schedule_follows_edits(
    helpdesk: Helpdesk, connector: Connector, officer_actor: Any
) -> None:
    # given
    policy = make_policy(connector)
    task = PeriodicTask.objects.get(pk=policy.periodic_task_id)
    assert task.task == "retention.tasks.purge_run_task"
    assert task.args == f"[{policy.pk}]"
    assert (task.crontab.minute, task.crontab.hour) == ("0", "3")
    assert str(task.crontab.timezone) == "Europe/London"
    next_run = policy_next_run_at(policy=policy)
    assert next_run is not None
    assert timezone.localtime(next_run, task.crontab.timezone).hour == 3

    # when
    retention_policy_update(
        actor=officer_actor, policy=policy, schedule="30 2 * * 1", enabled=False
    )

    # then
    task.refresh_from_db()
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == (
        "30",
        "2",
        "1",
    )
    assert task.enabled is False
    assert policy_next_run_at(policy=RetentionPolicy.objects.get(pk=policy.pk)) is None


@pytest.mark.django_db
def test_policy_changes_are_versioned_with_their_approver_and_runs_cite_the_version(
    helpdesk: Helpdesk, connector: Connector, officer_actor: Any
) -> None:
    # given
    policy = make_policy(connector)

    # when
    policy = retention_policy_update(
        actor=officer_actor, policy=policy, max_age_days=90, reason="legal review"
    )
    run = purge_run_start(actor=SYSTEM, policy=policy, dry_run=True)

    # then
    versions = list(policy.history.order_by("history_id"))
    assert [v.max_age_days for v in versions][-1] == 90
    assert len(versions) == 2
    event = AuditEvent.objects.filter(action="retention.policy_updated").get()
    assert event.actor == officer_actor.ref
    assert event.data["approved_by"] == officer_actor.ref
    assert event.data["changes"]["max_age_days"][1] == 90
    assert event.data["version"] == versions[-1].history_id
    assert run.policy_version == versions[-1].history_id
    assert run.policy_snapshot["max_age_days"] == 90


@pytest.mark.django_db
def test_bad_policies_are_refused_naming_the_field(
    helpdesk: Helpdesk, connector: Connector
) -> None:
    with pytest.raises(ValidationFailed) as table:
        make_policy(connector, table="invoices")
    with pytest.raises(ValidationFailed) as fields:
        make_policy(connector, table="ai_conversations", action="redact_pii")
    with pytest.raises(ValidationFailed) as schedule:
        make_policy(connector, schedule="every day")

    assert table.value.field == "table"
    assert fields.value.field == "fields"
    assert schedule.value.field == "schedule"
    assert not RetentionPolicy.objects.filter(builtin=False).exists()


def test_a_delete_policy_given_columns_is_refused_naming_the_field(
    helpdesk: Helpdesk, connector: Connector
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        make_policy(connector, action="delete", fields=["subject"])

    assert refused.value.field == "fields"
    assert not RetentionPolicy.objects.filter(builtin=False).exists()


@pytest.mark.django_db
def test_a_connector_that_cannot_purge_is_refused_and_a_run_on_one_fails_for_good(
    sqlite_helpdesk: Helpdesk,
) -> None:
    # given a manual store, and a policy whose store became one after it was set
    manual = Connector.objects.create(
        name="billing",
        kind="manual",
        config={"instructions": "Delete old invoices in the billing tool."},
    )
    store = make_connector(sqlite_helpdesk)
    policy = make_policy(store)
    Connector.objects.filter(pk=store.pk).update(kind="manual", config=manual.config)
    policy.refresh_from_db()

    # when / then: the contract says the kind cannot purge
    with pytest.raises(ValidationFailed) as refused:
        make_policy(manual, name="billing purge")
    run = purge_run_start(actor=SYSTEM, policy=policy)

    assert refused.value.field == "connector"
    assert "cannot purge by age" in refused.value.message
    assert run.status == RunStatus.FAILED
    assert run.errors[-1]["permanent"] is True
    assert "cannot purge by age" in run.errors[-1]["message"]


@pytest.mark.django_db
def test_the_built_in_policy_scope_is_fixed_and_its_age_follows_the_setting(
    settings: Any, officer_actor: Any
) -> None:
    # given
    policy = retention_builtin_ensure()

    # when / then
    with pytest.raises(ValidationFailed) as refused:
        retention_policy_update(actor=officer_actor, policy=policy, table="x")
    assert refused.value.field == "table"

    settings.SELF_RETENTION_DAYS = 400
    assert retention_builtin_ensure().max_age_days == 400
    assert RetentionPolicy.objects.filter(builtin=True).count() == 1


@pytest.mark.django_db
def test_the_sweep_marks_a_silent_run_interrupted_and_alerts_the_officers(
    helpdesk: Helpdesk,
    connector: Connector,
    time_machine: Any,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a run whose worker died after one batch
    from retention.tasks import sweep_purge_runs_task

    policy = make_policy(connector, batch_size=10)

    def kill(run: PurgeRun) -> None:
        raise WorkerKilled

    with pytest.raises(WorkerKilled):
        purge_run_start(actor=SYSTEM, policy=policy, on_batch=kill)

    # when beat's sweep runs after the stale limit
    time_machine.move_to(timezone.now() + timedelta(minutes=20), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        marked = sweep_purge_runs_task()

    # then
    assert marked == 1
    run = PurgeRun.objects.get(policy=policy)
    assert run.status == RunStatus.INTERRUPTED
    assert len(mailoutbox) == 1
    assert str(run.public_id) in mailoutbox[0].body


@pytest.mark.django_db
def test_beat_skips_a_disabled_policy_and_a_second_delivery_is_harmless(
    helpdesk: Helpdesk, connector: Connector
) -> None:
    from retention.tasks import purge_run_task

    policy = make_policy(connector, enabled=False)
    # (staff confirmed its real runs: see test_confirmation.py for the rest)
    RetentionPolicy.objects.filter(pk=policy.pk).update(
        real_runs_confirmed_at=timezone.now(), real_runs_confirmed_by="user:1"
    )

    assert purge_run_task(policy.pk) == "disabled"
    assert not PurgeRun.objects.exists()
    assert purge_run_task(policy.pk, triggered_by="user:1") == "succeeded"
    assert purge_run_task(policy.pk, triggered_by="user:1") == "succeeded"
    first, second = PurgeRun.objects.order_by("pk")
    assert second.tables["tickets"]["changed"] == 0
    assert first.tables["tickets"]["changed"] > 0
