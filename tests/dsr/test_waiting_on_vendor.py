"""An erasure a vendor finishes by a date (Intercom's 7-day grace): the
task waits on the store with that date, shows so on the request page and
in the evidence pack, is checked by the sweeper after the date, and is done
only when the store confirms. Real PostgreSQL, the Intercom stand-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.actors import actor_system
from connectors.services import connector_create
from dashboard.views.tasks import TaskRow
from dsr.models import RequestTask
from dsr.services.execution.running import task_run
from dsr.services.execution.sweeping import tasks_sweep
from evidence.packs.store_facts import stores_part
from standins.intercom import StandIn
from standins.intercom.state import GRACE_SECONDS, contact_id
from tests.disclosure import CATEGORIES, DISCLOSURE
from tests.intercom import TOKEN, intercom_standin

pytestmark = pytest.mark.django_db
standin = intercom_standin  # the fixture, by the name the tests use


def test_an_erasure_waits_on_the_vendor_until_its_date_then_is_verified(
    standin: StandIn, make_request
) -> None:
    connector_create(
        actor=actor_system("tests"),
        name="intercom",
        kind="intercom",
        config={"base_url": standin.url},
        secrets={"access_token": TOKEN},
        data_categories=CATEGORIES,
        disclosure=DISCLOSURE,
    )
    person = standin.account.contacts[contact_id(2)]
    request = make_request(
        kind="erasure", verified=True, identity={"email": person["email"]}
    )
    (task,) = request.tasks.all()

    # the erasure runs: Intercom deleted her, and destroys her in 7 days
    assert task_run(task_id=task.pk) == "deferred"
    task.refresh_from_db()
    assert task.status == "waiting"
    week = timezone.now() + timedelta(days=7)
    assert abs((task.next_attempt_at - week).total_seconds()) < 60
    assert task.status_note.startswith("waiting on intercom until ")
    assert task.erasure_receipt is not None  # kept, encrypted, for the check
    assert not request.tasks.filter(action="verify_erasure").exists()
    # the request page and the evidence pack say so
    row = TaskRow(task, "Erase", "", "", [], by_hand=False)
    assert row.status_label.startswith("Waiting on intercom until ")
    (store,) = stores_part(request, list(request.tasks.all()))
    assert store["status_label"].startswith("Waiting on intercom until ")
    assert "waiting on intercom until" in store["verification"]["summary"]

    # before the date the sweeper leaves it alone
    assert tasks_sweep()["waiting_checked"] == 0
    # after the date, but Intercom still holds her: it waits again
    RequestTask.objects.filter(pk=task.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert tasks_sweep()["waiting_checked"] == 1  # checked at once (eager)
    task.refresh_from_db()
    assert task.status == "waiting"
    assert "still holds 1 record" in task.last_error
    assert task.next_attempt_at > timezone.now() + timedelta(hours=23)

    # the grace ends: the next check confirms, and the request completes
    standin.account.advance(GRACE_SECONDS + 1)
    RequestTask.objects.filter(pk=task.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert tasks_sweep()["waiting_checked"] == 1
    task.refresh_from_db()
    assert task.status == "succeeded"
    assert "confirmed" in task.status_note
    verify = request.tasks.get(action="verify_erasure")
    assert (verify.status, verify.records_found) == ("succeeded", 0)
    request.refresh_from_db()
    assert request.status == "completed", request.status_reason
    outcomes = list(task.tries.order_by("number").values_list("outcome", flat=True))
    assert outcomes == ["deferred", "deferred", "succeeded"]
