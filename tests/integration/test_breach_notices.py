"""Art. 34 notices leave through a real worker process, carried by Redis,
and the queued messages carry notice ids only."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection  # noqa: F401 - read by the skipif condition
from django.utils import timezone

from accounts.actors import Actor
from breaches.models import Breach, BreachNotice
from breaches.services.notices import breach_notices_request
from breaches.services.register import breach_create
from tests.integration.conftest import mail_sent, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'",
        reason="the worker shares the test database",
    ),
]


def _breach(actor: Actor) -> Breach:
    return breach_create(
        actor=actor,
        title="Chat export readable by a contractor",
        aware_at=timezone.now() - timedelta(hours=5),
        description="A nightly chat export was readable by a contractor account.",
        risk="high_risk",
        contact_point="dpo@support.example",
        subjects_decision="notify",
    )


def test_breach_notices_are_sent_by_the_worker_and_recorded(
    worker: Any, mail_dir: Path, officer_actor: Actor
) -> None:
    breach = _breach(officer_actor)
    breach_notices_request(
        actor=officer_actor,
        breach=breach,
        addresses="ada@example.org\ngrace@example.org",
    )
    sent = wait_for(lambda: len(mail_sent(mail_dir)) == 2 and mail_sent(mail_dir))
    bodies = "".join(sent)
    assert "ada@example.org" in bodies
    assert "grace@example.org" in bodies
    assert breach.reference in bodies
    wait_for(
        lambda: set(BreachNotice.objects.values_list("status", flat=True)) == {"sent"},
        what="both notices recorded as sent",
    )


def test_queued_notice_tasks_carry_ids_only(
    transactional_db: Any, broker_url: str, officer_actor: Actor
) -> None:
    import redis

    breach = _breach(officer_actor)
    breach_notices_request(
        actor=officer_actor, breach=breach, addresses="linus@example.org"
    )
    broker = redis.Redis.from_url(broker_url)
    queued = [
        json.loads(raw)
        for key in broker.scan_iter(match="celery*")
        if broker.type(key) == b"list"
        for raw in broker.lrange(key, 0, -1)
    ]
    notices = [
        m
        for m in queued
        if m["headers"]["task"] == "breaches.tasks.send_breach_notice_task"
    ]
    assert len(notices) == 1
    args, kwargs, _ = json.loads(base64.b64decode(notices[0]["body"]))
    assert args == [BreachNotice.objects.get().pk]
    assert kwargs == {}
    assert (
        "linus"
        not in json.dumps(notices[0]) + base64.b64decode(notices[0]["body"]).decode()
    )
