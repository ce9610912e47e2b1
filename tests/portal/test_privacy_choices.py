"""Privacy choices without a request: a code opens the consent page; the
CCPA opt-out links apply at once; GPC is said to be honoured."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from consent.choices import ConsentChannel, ConsentStatus
from consent.models import ChoicesCode, ConsentEvent, ConsentState, Purpose
from consent.seed import seed_purposes
from subjects.claims import identity_claims
from subjects.models import DataSubject
from subjects.selectors import subject_find
from subjects.services import subject_get_or_create
from tests.portal.conftest import last_code

EMAIL = "grace.hopper@example.com"
SALE_OR_SHARING = {"ai_training", "analytics"}


@pytest.fixture(autouse=True)
def _purposes(db: Any) -> None:
    seed_purposes()  # a transactional test elsewhere may have flushed them


def subject_of(email: str) -> DataSubject | None:
    return subject_find(claims=identity_claims({"email": email}))


def states(subject: DataSubject) -> dict[str, str]:
    return dict(
        ConsentState.objects.filter(subject=subject).values_list(
            "purpose__slug", "state"
        )
    )


def ask_for_code(client: Client, email: str = EMAIL) -> Any:
    return client.post(reverse("portal:choices"), {"email": email})


def test_home_and_every_page_link_to_the_choices_and_the_ccpa_opt_outs(client):
    home = client.get(reverse("portal:home")).content.decode()
    for name in ("portal:choices", "portal:do_not_sell", "portal:limit_sensitive"):
        assert reverse(name) in home
    assert "Do Not Sell or Share My Personal Information" in home
    assert "Limit the Use of My Sensitive Personal Information" in home
    # the footer of any portal page carries them too
    new = client.get(reverse("portal:new")).content.decode()
    footer = new[new.index('class="site-footer"') :]
    assert reverse("portal:do_not_sell") in footer
    assert reverse("portal:limit_sensitive") in footer


def test_a_code_by_email_opens_the_consent_page_of_a_new_address(client):
    # when: an address we never saw asks for its choices
    response = ask_for_code(client)

    # then: a code went there, and the code page asks for it
    assert response.status_code == 302
    code_row = ChoicesCode.objects.get()
    assert response["Location"] == reverse(
        "portal:choices_code", args=[str(code_row.public_id)]
    )
    assert mail.outbox[-1].to == [EMAIL]
    assert "privacy choices" in mail.outbox[-1].subject
    assert subject_of(EMAIL) is None  # nothing recorded before the code matches

    # when: the code is typed
    opened = client.post(response["Location"], {"code": last_code()})

    # then: that address's consent page opens, for a subject recorded now
    subject = subject_of(EMAIL)
    assert subject is not None
    assert opened.status_code == 302
    page = client.get(opened["Location"])
    assert page.status_code == 200
    assert page.context["purposes"]
    # and the address is no longer kept with the spent code
    code_row.refresh_from_db()
    assert code_row.used_at is not None
    assert code_row.email == ""
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"consent.choices_code_sent", "consent.choices_opened"} <= actions


def test_a_known_address_opens_its_own_consents(client):
    known = subject_get_or_create(claims=identity_claims({"email": EMAIL}))
    opened = client.post(ask_for_code(client)["Location"], {"code": last_code()})
    page = client.get(opened["Location"])
    assert page.status_code == 200
    assert DataSubject.objects.count() == 1
    assert subject_of(EMAIL) == known
    # the page changes that subject's consents, with one button
    slug = "ai_training"
    client.post(opened["Location"], {"purpose": slug, "choice": "allow"})
    assert states(known)[slug] == ConsentStatus.GRANTED


def test_known_and_unknown_addresses_get_the_same_answer(client):
    subject_get_or_create(claims=identity_claims({"email": EMAIL}))
    known = ask_for_code(client, EMAIL)
    unknown = ask_for_code(client, "nobody@example.net")
    assert known.status_code == unknown.status_code == 302

    def page(url: str) -> str:
        body = client.get(url).content.decode().replace(url, "URL")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)

    assert page(known["Location"]) == page(unknown["Location"])
    assert len(mail.outbox) == 2


def test_wrong_codes_are_counted_and_lock_the_code(client, settings):
    url = ask_for_code(client)["Location"]
    right = last_code()
    wrong = "000000" if right != "000000" else "111111"
    for tries_left in range(settings.PORTAL_CODE_MAX_ATTEMPTS - 1, 0, -1):
        response = client.post(url, {"code": wrong})
        assert response.status_code == 400
        assert f"({tries_left} tries left)" in response.content.decode()
    client.post(url, {"code": wrong})
    # then even the right code is refused now
    locked = client.post(url, {"code": right})
    assert locked.status_code == 400
    assert "Too many wrong codes" in locked.content.decode()
    assert subject_of(EMAIL) is None


def test_a_code_works_once_and_not_after_it_expires(client, settings):
    url = ask_for_code(client)["Location"]
    code = last_code()
    assert client.post(url, {"code": code}).status_code == 302
    again = client.post(url, {"code": code})
    assert again.status_code == 400
    assert "used already" in again.content.decode()

    other = ask_for_code(client, "other@example.com")["Location"]
    with time_machine.travel(
        timezone.now() + timedelta(minutes=settings.PORTAL_CODE_TTL_MINUTES + 1)
    ):
        late = client.post(other, {"code": last_code()})
    assert late.status_code == 400
    assert "expired" in late.content.decode()


def test_a_second_code_within_the_wait_is_refused_naming_the_field(client):
    ask_for_code(client)
    response = ask_for_code(client)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "you can ask again in" in errors["email"][0]
    assert len(mail.outbox) == 1


def test_a_new_code_replaces_the_old_one(client, settings):
    first_url = ask_for_code(client)["Location"]
    first = last_code()
    with time_machine.travel(
        timezone.now() + timedelta(seconds=settings.PORTAL_CODE_RESEND_SECONDS + 1)
    ):
        resent = client.post(first_url, {"action": "resend"})
        assert resent.status_code == 302
        second_url = resent["Location"]
        assert second_url != first_url
        assert client.post(first_url, {"code": first}).status_code == 404
        assert client.post(second_url, {"code": last_code()}).status_code == 302


def test_a_bad_address_is_refused_on_its_field(client):
    response = ask_for_code(client, "not-an-address")
    assert response.status_code == 400
    assert "Enter a valid e-mail address" in response.context["form"].errors["email"][0]
    assert not ChoicesCode.objects.exists()
    assert not mail.outbox


def test_an_unknown_code_link_is_a_404(client):
    url = reverse("portal:choices_code", args=["not-a-uuid"])
    assert client.get(url).status_code == 404


def test_do_not_sell_applies_at_once_without_a_code(client, make_api_client):
    # when: someone uses the "Do Not Sell or Share" link
    response = client.post(reverse("portal:do_not_sell"), {"email": EMAIL})

    # then: no code, no e-mail; every sale/sharing purpose is withdrawn
    assert response.status_code == 200
    assert 'data-testid="opt-out-done"' in response.content.decode()
    assert not mail.outbox
    subject = subject_of(EMAIL)
    assert subject is not None
    withdrawn = {
        slug for slug, state in states(subject).items() if state == "withdrawn"
    }
    assert withdrawn == SALE_OR_SHARING
    events = ConsentEvent.objects.filter(subject=subject)
    assert {e.channel for e in events} == {ConsentChannel.PORTAL}
    assert {e.evidence["ui_element"] for e in events} == {"opt-out-page:sale_sharing"}
    # and the consent check says no from the next call
    _, http = make_api_client("consent:check")
    answer = http.post(
        "/api/v1/consent/check/",
        {"identity": {"email": EMAIL}, "purpose": "analytics"},
        format="json",
    ).json()
    assert answer["allowed"] is False

    # when: the link is used again, nothing new is recorded
    client.post(reverse("portal:do_not_sell"), {"email": EMAIL})
    assert ConsentEvent.objects.filter(subject=subject).count() == len(SALE_OR_SHARING)


def test_limit_sensitive_withdraws_the_purposes_that_use_it(client):
    flagged = set(
        Purpose.objects.filter(uses_sensitive_pi=True).values_list("slug", flat=True)
    )
    assert flagged == {"ai_training"}  # the seed's (migration 0007)
    client.post(reverse("portal:limit_sensitive"), {"email": EMAIL})
    subject = subject_of(EMAIL)
    assert subject is not None
    assert states(subject) == {"ai_training": "withdrawn"}


def test_limit_sensitive_says_so_when_nothing_uses_it(client):
    Purpose.objects.update(uses_sensitive_pi=False)
    page = client.get(reverse("portal:limit_sensitive")).content.decode()
    assert 'data-testid="nothing-to-limit"' in page
    client.post(reverse("portal:limit_sensitive"), {"email": EMAIL})
    assert subject_of(EMAIL) is None
    assert not ConsentEvent.objects.exists()


def test_an_opt_out_with_a_bad_address_names_the_field(client):
    response = client.post(reverse("portal:do_not_sell"), {"email": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["email"] == ["Enter your e-mail address."]
    assert not ConsentEvent.objects.exists()


def test_gpc_is_shown_as_honoured(client):
    plain = client.get(reverse("portal:choices")).content.decode()
    assert 'data-testid="gpc-honoured"' not in plain
    assert 'data-testid="gpc-footer"' not in plain

    with_gpc = client.get(reverse("portal:choices"), headers={"Sec-GPC": "1"})
    body = with_gpc.content.decode()
    assert 'data-testid="gpc-honoured"' in body
    assert 'data-testid="gpc-footer"' in body
    opt_out = client.get(reverse("portal:do_not_sell"), headers={"Sec-GPC": "1"})
    assert 'data-testid="gpc-honoured"' in opt_out.content.decode()


def test_gpc_with_an_opt_out_is_kept_as_evidence(client):
    client.post(
        reverse("portal:do_not_sell"), {"email": EMAIL}, headers={"Sec-GPC": "1"}
    )
    subject = subject_of(EMAIL)
    assert subject is not None
    assert all(
        event.evidence["gpc"] is True
        for event in ConsentEvent.objects.filter(subject=subject)
    )
