"""POST /api/v1/requests/batch/ as a CRM calls it, against the real database:
all or nothing, every fault named by its item, one transaction, one audit
append, the single create's rules per item."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from audit.accounts import api_client_scope_use_note
from audit.models import AuditEvent
from dsr.models import Request, RequestTask
from subjects.models import DataSubject, SubjectIdentifier

URL = "/api/v1/requests/batch/"
WRITE_VERIFY = ("requests:read", "requests:write", "requests:verify")

MakeClient = Callable[..., tuple[Any, APIClient]]


def _item(n: int, **overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "kind": "access",
        "regime": "gdpr",
        "identity": {"email": f"customer-{n}@example.org"},
        "verified": True,
    }
    item.update(overrides)
    return item


@pytest.mark.django_db
def test_a_batch_of_50_is_recorded_in_order_in_one_transaction(
    make_api_client: MakeClient,
    stores: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a CRM forwarding 50 verified access requests at once, one that
    # has called with this scope before (its first use is audited once, in an
    # append of its own: the new-scope alert)
    client, http = make_api_client(*WRITE_VERIFY)
    api_client_scope_use_note(client=client, scope="requests:write")
    items = [_item(n) for n in range(50)]
    events_before = AuditEvent.objects.count()

    # when it posts them in one call
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=False) as sent,
    ):
        response = http.post(URL, {"requests": items}, format="json")

    # then all 50 are answered in the order sent, as the single create answers
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert len(answer) == 50
    requests = {r.public_id.hex: r for r in Request.objects.all()}
    for item, row in zip(items, answer, strict=True):
        request = requests[row["id"].replace("-", "")]
        assert request.identity == item["identity"]
        assert row["status"] == "in_progress"
        assert row["verification_method"] == "api_vouched"
        assert row["reference"] == request.reference
        assert [t["connector"] for t in row["tasks"]] == ["billing-desk", "legacy-crm"]
        assert row["progress"]["tasks_total"] == 2
        assert "identity" not in row
    # each with its own tasks and the lifecycle's four events
    assert RequestTask.objects.count() == 100
    actions = list(
        AuditEvent.objects.order_by("sequence")[events_before:].values_list(
            "action", flat=True
        )
    )
    for action in ("received", "verified", "started", "fanned_out"):
        assert actions.count(f"request.{action}") == 50
    # in one audit append, one message to the broker after commit for the
    # tasks and one for what is wired to a verification (REQUEST_VERIFIED_
    # TASKS), and a number of statements that does not grow with the batch
    appends = [q for q in queries.captured_queries if "audit_append_many" in q["sql"]]
    assert len(appends) == 1
    assert sorted(callback.__qualname__.split(".")[0] for callback in sent) == [
        "request_verified_send",
        "tasks_enqueue_after_commit",
    ]
    assert len(queries.captured_queries) <= 20


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"identity": {"email": "not an address"}}, "requests[3].identity.email"),
        ({"kind": "nope"}, "requests[3].kind"),
        ({"verified": "yes"}, "requests[3].verified"),
        ({"colour": "blue"}, "requests[3].colour"),
        ({"corrections": {"name": "Ada"}}, "requests[3].corrections"),
    ],
)
def test_one_bad_item_refuses_the_batch_and_names_it(
    make_api_client: MakeClient, stores: None, change: dict[str, Any], path: str
) -> None:
    # given a batch of five whose fourth item is wrong
    _, http = make_api_client(*WRITE_VERIFY)
    items = [_item(n) for n in range(5)]
    items[3].update(change)
    events_before = AuditEvent.objects.count()

    # when it is posted
    response = http.post(URL, {"requests": items}, format="json")

    # then the answer names that item's field, and nothing at all is written
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert list(body["errors"]) == [path]
    assert not Request.objects.exists()
    assert not DataSubject.objects.exists()
    assert not RequestTask.objects.exists()
    assert AuditEvent.objects.count() == events_before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"requests": [_item(n) for n in range(101)]},
        {"requests": []},
        {"requests": {"kind": "access"}},
        {},
    ],
    ids=["101 items", "empty", "not a list", "missing"],
)
def test_a_batch_of_the_wrong_size_is_refused_naming_the_field(
    make_api_client: MakeClient, body: dict[str, Any]
) -> None:
    _, http = make_api_client(*WRITE_VERIFY)

    response = http.post(URL, body, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["requests"]
    assert not Request.objects.exists()


@pytest.mark.django_db
def test_the_batch_needs_the_scopes_of_the_single_create(
    make_api_client: MakeClient,
) -> None:
    items = [_item(1, verified=False), _item(2)]
    # no token at all
    assert APIClient().post(URL, {"requests": items}, format="json").status_code == 401
    # a token that may only read
    _, reader = make_api_client("requests:read")
    response = reader.post(URL, {"requests": items}, format="json")
    assert response.status_code == 403
    # a token that may write but not vouch for an identity: the verified item
    # refuses the whole batch
    _, writer = make_api_client("requests:read", "requests:write")
    response = writer.post(URL, {"requests": items}, format="json")
    assert response.status_code == 403
    assert not Request.objects.exists()
    # without the verified item, the same token records the rest
    response = writer.post(URL, {"requests": items[:1]}, format="json")
    assert response.status_code == 201
    assert response.json()[0]["status"] == "received"


@pytest.mark.django_db
def test_each_item_finds_its_subject_as_the_single_create_does(
    make_api_client: MakeClient,
) -> None:
    # given a subject already known from an earlier request
    _, http = make_api_client(*WRITE_VERIFY)
    earlier = http.post(
        "/api/v1/requests/",
        {"kind": "access", "regime": "gdpr", "identity": {"email": "ada@ex.org"}},
        format="json",
    )
    assert earlier.status_code == 201
    ada = DataSubject.objects.get()

    # when a batch holds her again (with her phone, verified), a newcomer twice
    # (the second time unverified) and someone unverified giving Ada's phone
    items = [
        _item(0, identity={"email": "ada@ex.org", "phone": "+44 20 7946 0000"}),
        _item(1, identity={"email": "bob@ex.org", "phone": "+44 20 7946 1111"}),
        _item(2, identity={"email": "bob@ex.org"}, verified=False),
        _item(
            3,
            identity={"email": "eve@ex.org", "phone": "+44 20 7946 0000"},
            verified=False,
        ),
    ]
    response = http.post(URL, {"requests": items}, format="json")

    # then Ada's request has her subject and links her phone; Bob's two share
    # one new subject; the last is found by the phone linked just before
    # (the single create's rule: any known identifier), and, unverified,
    # attaches nothing more to Ada
    assert response.status_code == 201, response.json()
    ids = [row["id"] for row in response.json()]
    subjects = [Request.objects.get(public_id=i).subject_id for i in ids]
    assert subjects[0] == subjects[3] == ada.pk
    assert subjects[1] == subjects[2] != ada.pk
    assert SubjectIdentifier.objects.filter(subject_id=ada.pk).count() == 2
    assert SubjectIdentifier.objects.filter(subject_id=subjects[1]).count() == 2
    assert DataSubject.objects.count() == 2
    # and the unverified one waits for proof of identity, its clock paused
    third = Request.objects.get(public_id=ids[2])
    assert third.status == "received"
    assert third.pauses.filter(reason="identity", ended_at__isnull=True).exists()
