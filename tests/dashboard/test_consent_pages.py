"""Dashboard consent pages: purposes and wording, rates chart, subject history."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from accounts.actors import actor_system
from consent.models import ConsentState, PolicyVersion
from consent.seed import seed_purposes
from consent.services.events import consent_set
from dsr.services.subjects import identity_claims, subject_get_or_create

EMAIL = "ada@example.com"
PURPOSES = reverse("dashboard:consent_purposes")


@pytest.fixture(autouse=True)
def _purposes(db: Any) -> None:
    seed_purposes()


@pytest.fixture
def ada(db: Any) -> Any:
    subject = subject_get_or_create(claims=identity_claims({"email": EMAIL}))
    tester = actor_system("tests")
    for slug, granted in [
        ("ai_training", True),
        ("ai_training", False),
        ("analytics", True),
    ]:
        consent_set(
            actor=tester, subject=subject, purpose=slug, granted=granted, channel="api"
        )
    return subject


def publish(client: Any, slug: str = "ai_training", **data: str) -> Any:
    fields = {"version": "2027-01", "text": "New plain wording.", "material": "on"}
    fields.update(data)
    return client.post(
        reverse("dashboard:consent_policy_publish", args=[slug]),
        {f"{slug}-{key}": value for key, value in fields.items()},
    )


def test_officer_sees_purposes_versions_and_an_svg_chart(officer_client, ada):
    response = officer_client.get(PURPOSES)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'href="{PURPOSES}"' in body
    assert "Using conversations to train AI models" in body
    assert "<svg" in body
    assert 'data-purpose="ai_training"' in body
    assert "<circle" in body  # today's choices are drawn
    assert "1 grant, 1 withdrawal" in body
    assert "<script" not in body.split("<main")[1]  # no chart library
    assert "Publish a new version" in body


def test_officer_publishes_a_material_version(officer_client, ada):
    ConsentState.objects.filter(purpose__slug="analytics").update(state="granted")
    response = publish(officer_client, "analytics")
    assert response.status_code == 302
    version = PolicyVersion.objects.get(purpose__slug="analytics", version="2027-01")
    assert version.material
    assert version.text == "New plain wording."
    state = ConsentState.objects.get(subject=ada, purpose__slug="analytics")
    assert state.state == "needs_renewal"


def test_publish_errors_are_shown_on_the_form(officer_client, ada):
    response = publish(officer_client, version="no spaces allowed")
    assert response.status_code == 400
    assert "a short label such as 2026-10" in response.content.decode()


def test_auditor_reads_but_cannot_publish(auditor_client, ada):
    page = auditor_client.get(PURPOSES)
    assert page.status_code == 200
    assert "Publish a new version" not in page.content.decode()
    before = PolicyVersion.objects.count()
    response = publish(auditor_client)
    assert response.status_code == 403
    assert PolicyVersion.objects.count() == before


def test_agent_views_consent_but_cannot_publish(agent_client, ada):
    assert agent_client.get(PURPOSES).status_code == 200
    before = PolicyVersion.objects.count()
    assert publish(agent_client).status_code == 403
    assert PolicyVersion.objects.count() == before


def test_no_role_gets_403(client, no_role_user):
    client.force_login(no_role_user)
    assert client.get(PURPOSES).status_code == 403


def test_nav_shows_consent_to_staff_who_may_view(officer_client, auditor_client, db):
    for http in (officer_client, auditor_client):
        body = http.get(reverse("dashboard:audit_log")).content.decode()
        assert f'href="{PURPOSES}"' in body


@pytest.mark.parametrize("who", ["officer_client", "auditor_client", "agent_client"])
def test_subject_history_found_by_email(request, who, ada):
    http = request.getfixturevalue(who)
    search = reverse("dashboard:consent_subject_search")
    assert http.get(search).status_code == 200
    response = http.post(search, {"email": EMAIL.upper()})
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "dashboard:consent_subject", args=[ada.public_id]
    )
    page = http.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert EMAIL not in body
    assert body.count("<td>ai_training</td>") == 2  # both events, newest first
    assert "Withdrawn" in body


def test_unknown_email_says_so(officer_client, db):
    response = officer_client.post(
        reverse("dashboard:consent_subject_search"), {"email": "nobody@example.com"}
    )
    assert response.status_code == 404
    assert "No customer with that e-mail address" in response.content.decode()
