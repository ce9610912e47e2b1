"""The subject's consent page: one button per purpose, GPC, signed links."""

from __future__ import annotations

from html import unescape
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from consent.links import consent_token
from consent.models import ConsentEvent, ConsentState
from consent.seed import seed_purposes
from portal.views_consent import GPC_NOTICE
from subjects.claims import identity_claims
from subjects.models import DataSubject
from subjects.services import subject_get_or_create

EMAIL = "ada@example.com"
SALE_OR_SHARING = {"ai_training", "analytics"}


@pytest.fixture(autouse=True)
def _purposes(db: Any) -> None:
    seed_purposes()  # a transactional test elsewhere may have flushed them


@pytest.fixture
def ada(db: Any) -> DataSubject:
    return subject_get_or_create(claims=identity_claims({"email": EMAIL}))


def url_for(subject: DataSubject) -> str:
    return reverse("portal:consents", args=[consent_token(str(subject.public_id))])


def state(subject: DataSubject, slug: str) -> str | None:
    row = ConsentState.objects.filter(subject=subject, purpose__slug=slug).first()
    return row.state if row else None


def check(http: Any, slug: str) -> dict[str, Any]:
    response = http.post(
        "/api/v1/consent/check/",
        {"identity": {"email": EMAIL}, "purpose": slug},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_page_lists_every_purpose_with_wording_and_one_button(client, ada):
    response = client.get(url_for(ada))
    assert response.status_code == 200
    body = response.content.decode()
    for slug in ("ai_processing", "ai_training", "marketing_email", "analytics"):
        assert f'id="purpose-{slug}"' in body
    assert "Using conversations to train AI models" in body
    assert "You can withdraw your consent at any time" in body
    assert "does not affect anything we did with your consent before" in body
    # nothing chosen yet: every purpose is off by default, each has one Allow
    assert body.count('value="allow"') == len(response.context["purposes"])
    assert 'value="withdraw"' not in body
    assert response["Cache-Control"].startswith("max-age=0")


def test_one_click_withdraw_is_refused_by_the_check_at_once(
    client, ada, make_api_client, django_capture_on_commit_callbacks
):
    _, http = make_api_client("consent:check")
    url = url_for(ada)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"purpose": "ai_training", "choice": "allow"})
    assert check(http, "ai_training")["allowed"] is True  # now cached

    # when: one press of Withdraw
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {"purpose": "ai_training", "choice": "withdraw"},
            HTTP_USER_AGENT="TestBrowser/1.0",
            REMOTE_ADDR="203.0.113.9",
        )
    assert response.status_code == 302
    answer = check(http, "ai_training")
    assert answer["allowed"] is False
    assert answer["state"] == "withdrawn"
    event = ConsentEvent.objects.filter(subject=ada).latest("id")
    assert event.channel == "portal"
    assert event.recorded_by == f"data_subject:{ada.public_id}"
    assert event.evidence["user_agent"] == "TestBrowser/1.0"
    assert "203.0.113.9" not in str(event.evidence)
    assert event.evidence["ip_hash"]

    page = client.get(url).content.decode()
    assert "you withdrew your consent" in page

    # and granting back is one press too
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"purpose": "ai_training", "choice": "allow"})
    assert check(http, "ai_training")["allowed"] is True
    assert state(ada, "ai_training") == "granted"


def test_gpc_opts_out_of_sale_and_sharing_only_and_says_so_once(client, ada):
    url = url_for(ada)
    client.post(url, {"purpose": "marketing_email", "choice": "allow"})

    response = client.get(url, HTTP_SEC_GPC="1")
    assert response.status_code == 200
    assert GPC_NOTICE in unescape(response.content.decode())
    for slug in SALE_OR_SHARING:
        assert state(ada, slug) == "withdrawn"
    assert state(ada, "marketing_email") == "granted"
    assert state(ada, "ai_processing") is None
    gpc_events = ConsentEvent.objects.filter(subject=ada, channel="gpc")
    assert {e.purpose.slug for e in gpc_events} == SALE_OR_SHARING
    assert all(e.evidence["gpc"] for e in gpc_events)

    # a second visit with the signal changes nothing and says nothing new
    again = client.get(url, HTTP_SEC_GPC="1")
    assert GPC_NOTICE not in unescape(again.content.decode())
    assert gpc_events.count() == len(SALE_OR_SHARING)


def test_gpc_browser_cannot_allow_sale_or_sharing(client, ada):
    url = url_for(ada)
    response = client.post(
        url, {"purpose": "analytics", "choice": "allow"}, HTTP_SEC_GPC="1", follow=True
    )
    assert "turn that signal off first" in response.content.decode()
    assert state(ada, "analytics") == "withdrawn"


@pytest.mark.parametrize("token", ["nonsense", "x" * 40])
def test_bad_token_is_the_expired_link_page(client, db, token):
    response = client.get(reverse("portal:consents", args=[token]))
    assert response.status_code == 404
    assert "This link has expired" in response.content.decode()


def test_expired_token_is_refused(client, ada, settings):
    settings.PORTAL_LINK_MAX_AGE_DAYS = -1
    assert client.get(url_for(ada)).status_code == 404


def test_status_page_links_to_the_subjects_consents(client, make_request, time_machine):
    from dsr.links import status_token

    # the link is signed with the time: the page and the test sign in one second
    time_machine.move_to("2026-12-07 12:00:00+00:00", tick=False)
    dsr_request = make_request(identity={"email": EMAIL})
    response = client.get(
        reverse("portal:status", args=[status_token(str(dsr_request.public_id))])
    )
    assert url_for(dsr_request.subject) in response.content.decode()
    assert "Manage your consents" in response.content.decode()


def test_consent_link_command_prints_a_working_link(client, ada):
    out = StringIO()
    call_command("consent_link", EMAIL, stdout=out)
    link = out.getvalue().strip()
    assert link.startswith("http")
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert client.get(f"/{path}").status_code == 200


def test_unknown_purpose_records_nothing(client: Client, ada):
    client.post(url_for(ada), {"purpose": "mind_reading", "choice": "allow"})
    assert not ConsentEvent.objects.filter(subject=ada).exists()
