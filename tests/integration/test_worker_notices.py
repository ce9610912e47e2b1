"""Notices leave through a real worker process, carried by Redis."""

from __future__ import annotations

import pytest
from django.db import connection  # noqa: F401 - read by the skipif condition

from dsr.services.requests import request_reject
from tests.integration.conftest import mail_sent, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'",
        reason="the worker shares the test database",
    ),
]


def test_rejection_notice_is_sent_by_the_worker(
    worker, mail_dir, make_request, officer_actor
) -> None:
    # given a request in progress
    request = make_request(verified=True, identity={"email": "linus@example.org"})
    # when an officer rejects it (the notice is enqueued after commit)
    request_reject(actor=officer_actor, request=request, reason="Duplicate of DSR-1")
    # then the worker process sends the e-mail with the reasons and rights
    sent = wait_for(lambda: mail_sent(mail_dir), what="the notice e-mail")
    body = sent[0]
    assert "linus@example.org" in body
    assert "Duplicate of DSR-1" in body
    assert "judicial remedy" in body.lower()


def test_task_arguments_carry_ids_only(
    transactional_db, broker_url, make_request, officer_actor
) -> None:
    import base64
    import json

    import redis

    request = make_request(verified=True, identity={"email": "linus@example.org"})
    request_reject(actor=officer_actor, request=request, reason="Duplicate request")

    # "celery" and its lower-priority lists ("celery\x06\x166", ...): notices
    # wait behind request tasks (settings.CELERY_TASK_ROUTES)
    broker = redis.Redis.from_url(broker_url)
    queued = [
        raw
        for key in broker.scan_iter(match="celery*")
        if broker.type(key) == b"list"
        for raw in broker.lrange(key, 0, -1)
    ]
    assert queued, "the notice task should wait in the queue (no worker running)"
    messages = [json.loads(raw) for raw in queued]
    notices = [
        m for m in messages if m["headers"]["task"] == "dsr.tasks.request_closed_task"
    ]
    assert len(notices) == 1
    message = notices[0]
    args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    assert args == [request.pk, "rejected"]
    assert kwargs == {}
    for other in messages:  # every queued task carries ids only
        body = base64.b64decode(other["body"]).decode()
        assert "linus" not in json.dumps(other) + body
        assert "Duplicate" not in body
