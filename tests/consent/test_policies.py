"""Policy versions: the exact wording, and what a material change does to grants."""

from __future__ import annotations

import hashlib
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.actors import actor_for_user
from audit.models import AuditEvent
from consent.models import ConsentEvent, ConsentState, PolicyVersion
from consent.selectors import consent_check, consent_state_for_subject
from consent.services.policies import policy_version_publish, purpose_create
from privacydesk.errors import NotPermitted, ValidationFailed

pytestmark = pytest.mark.django_db
ADA = {"email": "ada@example.com"}
NEW_TEXT = (
    "We would now also use your conversations to fine-tune voice models. "
    "You can withdraw your consent at any time; withdrawing does not affect "
    "what we did before."
)


def _publish(actor, purpose, *, material: bool, version: str = "2026-12"):
    return policy_version_publish(
        actor=actor, purpose=purpose, version=version, text=NEW_TEXT, material=material
    )


def test_seeded_versions_carry_their_hash_and_the_withdrawal_notice():
    for version in PolicyVersion.objects.all():
        assert version.sha256 == hashlib.sha256(version.text.encode()).hexdigest()
        assert "withdraw your consent at any time" in version.text
        assert "does not affect anything we did with your consent before" in (
            version.text
        )
    assert PolicyVersion.objects.count() == 5


def test_a_material_version_puts_grants_into_needs_renewal_until_reconsent(
    ada, choose, tester, officer_actor, purpose, django_capture_on_commit_callbacks
):
    # given a grant, answered from the cache
    choose(ada, "ai_training", True)
    choose(ada, "marketing_email", False)
    assert consent_check(actor=tester, identity=ADA, purpose="ai_training")["allowed"]

    # when a materially different wording is published
    with django_capture_on_commit_callbacks(execute=True):
        published = _publish(officer_actor, purpose("ai_training"), material=True)

    # then the check says no and asks for renewal; the grant event is untouched
    answer = consent_check(actor=tester, identity=ADA, purpose="ai_training")
    assert answer["allowed"] is False
    assert answer["state"] == "needs_renewal"
    assert answer["policy_version"] == "2026-10"
    row = next(
        r
        for r in consent_state_for_subject(subject=ada)
        if r.purpose.slug == "ai_training"
    )
    assert row.needs_renewal is True
    assert row.current_version == published
    assert ConsentEvent.objects.filter(action="grant").count() == 1
    audit = AuditEvent.objects.get(action="consent.policy_published")
    assert audit.data["needs_renewal"] == 1
    assert audit.data["sha256"] == published.sha256

    # when the subject consents again to the new wording
    choose(ada, "ai_training", True)

    # then the check says yes on the new version
    answer = consent_check(actor=tester, identity=ADA, purpose="ai_training")
    assert answer["state"] == "granted"
    assert answer["policy_version"] == "2026-12"


def test_a_grant_on_wording_since_replaced_needs_renewal(
    ada, choose, officer_actor, purpose
):
    old = PolicyVersion.objects.get(purpose__slug="analytics")
    _publish(officer_actor, purpose("analytics"), material=True)

    recorded = choose(ada, "analytics", True, policy_version=old)

    state = ConsentState.objects.get(subject=ada, purpose__slug="analytics")
    assert recorded.event.policy_version == old
    assert state.state == "needs_renewal"


def test_a_non_material_version_leaves_grants_alone(
    ada, choose, tester, officer_actor, purpose, django_capture_on_commit_callbacks
):
    choose(ada, "ai_training", True)

    with django_capture_on_commit_callbacks(execute=True):
        _publish(officer_actor, purpose("ai_training"), material=False)

    answer = consent_check(actor=tester, identity=ADA, purpose="ai_training")
    assert answer["allowed"] is True
    assert answer["state"] == "granted"
    # new choices are made on the new wording
    choose(ada, "ai_training", False)
    assert ConsentEvent.objects.last().policy_version.version == "2026-12"


def test_the_default_answer_names_the_current_wording(
    tester, officer_actor, purpose, django_capture_on_commit_callbacks
):
    assert consent_check(actor=tester, identity=ADA, purpose="analytics")[
        "policy_version"
    ] == ("2026-10")

    with django_capture_on_commit_callbacks(execute=True):
        _publish(officer_actor, purpose("analytics"), material=False)

    answer = consent_check(actor=tester, identity=ADA, purpose="analytics")
    assert answer["policy_version"] == "2026-12"


def test_only_officers_publish_and_labels_are_unique(agent, officer_actor, purpose):
    with pytest.raises(NotPermitted):
        _publish(actor_for_user(agent), purpose("ai_training"), material=True)
    assert PolicyVersion.objects.count() == 5

    with pytest.raises(ValidationFailed) as error:
        _publish(
            officer_actor, purpose("ai_training"), material=True, version="2026-10"
        )
    assert error.value.field == "version"
    with pytest.raises(ValidationFailed) as error:
        policy_version_publish(
            actor=officer_actor,
            purpose=purpose("ai_training"),
            version="2027-01",
            text="  ",
            material=False,
        )
    assert error.value.field == "text"
    assert PolicyVersion.objects.count() == 5


def test_a_new_purpose_starts_with_its_wording(officer_actor, tester):
    created = purpose_create(
        actor=officer_actor,
        slug="sms_surveys",
        name="Satisfaction surveys by text message",
        description="A short survey after a support conversation.",
        text="We would like to text you a survey. " + NEW_TEXT,
        version="v1",
    )

    assert created.versions.get().version == "v1"
    answer = consent_check(actor=tester, identity=ADA, purpose="sms_surveys")
    assert answer["state"] == "default"
    assert answer["policy_version"] == "v1"


def test_the_publish_command_prints_the_hash(tmp_path: Path):
    text_file = tmp_path / "text.txt"
    text_file.write_text(NEW_TEXT, encoding="utf-8")
    out = StringIO()

    call_command(
        "publish_policy_version",
        "marketing_email",
        "2027-01",
        str(text_file),
        "--material",
        stdout=out,
    )

    version = PolicyVersion.objects.get(version="2027-01")
    assert version.material is True
    assert version.sha256 in out.getvalue()
