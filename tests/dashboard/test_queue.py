"""The request queue: filters, counts, search, paging and the empty state."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from django.test import Client
from django.urls import reverse

from dsr.models import Request

QUEUE = "/dashboard/"


def _refs(response) -> list[str]:
    return [item.reference for item, _deadline in response.context["rows"]]


def test_queue_url_is_the_dashboard_root() -> None:
    assert reverse("dashboard:queue") == QUEUE


def test_queue_lists_open_requests_with_key_columns(
    agent_client: Client, make_request
) -> None:
    dsr = make_request(verified=True)

    response = agent_client.get(QUEUE)

    assert response.status_code == 200
    page = response.content.decode()
    assert dsr.reference in page
    assert reverse("dashboard:request_detail", args=[dsr.public_id]) in page
    for text in (
        "Reference",
        "Kind",
        "Regime",
        "Channel",
        "Status",
        "Due",
        "Days left",
    ):
        assert text in page
    assert "In progress" in page
    assert "ada.lovelace" not in page  # no personal data in the list
    assert response.context["counts"]["open"] == 1


def test_queue_filters_by_status(officer_client: Client, make_request, officer_actor):
    from dsr.services.requests import request_cancel

    received = make_request()
    in_progress = make_request(verified=True)
    cancelled = make_request()
    request_cancel(actor=officer_actor, request=cancelled, reason="Entered twice")

    default = officer_client.get(QUEUE)
    only_cancelled = officer_client.get(QUEUE, {"status": "cancelled"})
    any_status = officer_client.get(QUEUE, {"status": ""})

    assert set(_refs(default)) == {received.reference, in_progress.reference}
    assert _refs(only_cancelled) == [cancelled.reference]
    assert len(_refs(any_status)) == 3


def test_queue_filters_by_kind_and_regime(officer_client: Client, make_request):
    access = make_request(kind="access", regime="gdpr")
    erasure = make_request(kind="erasure", regime="ccpa")

    by_kind = officer_client.get(QUEUE, {"kind": "erasure"})
    by_regime = officer_client.get(QUEUE, {"regime": "gdpr"})

    assert _refs(by_kind) == [erasure.reference]
    assert _refs(by_regime) == [access.reference]


def test_queue_overdue_filter_and_counts(officer_client: Client, make_request):
    # given one request received in January and one received today
    with time_machine.travel(datetime(2026, 1, 5, 10, 0, tzinfo=UTC), tick=False):
        old = make_request(verified=True)
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False):
        fresh = make_request(verified=True)

        # when
        overdue = officer_client.get(QUEUE, {"overdue": "on"})
        everything = officer_client.get(QUEUE)

    # then
    assert _refs(overdue) == [old.reference]
    assert fresh.reference in _refs(everything)
    assert everything.context["counts"]["overdue"] == 1
    page = overdue.content.decode()
    assert "days overdue" in page
    assert "days--overdue" in page


def test_queue_due_within_filter(officer_client: Client, make_request, settings):
    settings.DEADLINE_DUE_SOON_DAYS = 7
    # Received 9 Jan 2026: due Mon 9 Feb. Received 28 Jan: due Sat 28 Feb,
    # which rolls to Mon 2 Mar.
    with time_machine.travel(datetime(2026, 1, 9, 10, 0, tzinfo=UTC), tick=False):
        soon = make_request(verified=True)
    with time_machine.travel(datetime(2026, 1, 28, 10, 0, tzinfo=UTC), tick=False):
        later = make_request(verified=True)
    with time_machine.travel(datetime(2026, 2, 4, 10, 0, tzinfo=UTC), tick=False):
        response = officer_client.get(QUEUE, {"due_within": "7"})
        everything = officer_client.get(QUEUE)

    assert _refs(response) == [soon.reference]
    assert later.reference in _refs(everything)
    assert everything.context["counts"]["due_soon"] == 1
    assert "days--soon" in response.content.decode()


def test_queue_search_by_reference(officer_client: Client, make_request):
    wanted = make_request()
    other = make_request()

    response = officer_client.get(QUEUE, {"q": wanted.reference})

    # the queue's rows (not the page: the search box's placeholder is itself a
    # reference, DSR-2026-000123, which a generated request may share)
    assert _refs(response) == [wanted.reference]
    assert other.reference not in _refs(response)


def test_queue_empty_state_says_what_to_do(officer_client: Client) -> None:
    response = officer_client.get(QUEUE)

    page = response.content.decode()
    assert response.status_code == 200
    assert "No open requests" in page
    assert "enter it as a new request" in page


def test_queue_empty_filter_result_offers_reset(officer_client: Client, make_request):
    make_request()

    response = officer_client.get(QUEUE, {"q": "DSR-1999-999999"})

    assert "No requests match these filters" in response.content.decode()


def test_queue_invalid_filter_values_give_a_message_not_a_crash(
    officer_client: Client, make_request, officer_actor
) -> None:
    from dsr.services.requests import request_cancel

    dsr = make_request()
    closed = make_request()
    request_cancel(actor=officer_actor, request=closed, reason="Entered twice")

    response = officer_client.get(
        QUEUE, {"status": "nonsense", "due_within": "-3", "kind": "access", "page": "x"}
    )

    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any("filters were ignored" in m for m in messages)
    # the valid kind filter still applies; a bad status falls back to "open"
    assert _refs(response) == [dsr.reference]
    page = response.content.decode()
    assert 'value="open" selected' in page
    assert "field__error" not in page  # reported once, at the top


def test_queue_paginates_fifty_per_page(officer_client: Client, make_request):
    for _ in range(51):
        make_request()

    first = officer_client.get(QUEUE)
    second = officer_client.get(QUEUE, {"page": "2"})

    assert len(first.context["rows"]) == 50
    assert len(second.context["rows"]) == 1
    assert "Page 1 of 2" in first.content.decode()
    assert Request.objects.count() == 51
