"""Where a subject may complain, by the regime of their request (GDPR 12(4),
15(1)(f), 77): one rule for the letter, the e-mails and the dashboard."""

from __future__ import annotations

import html

import pytest
from django.core import mail

from dsr.regimes import supervisory_authority
from dsr.services.requests import request_reject

EU = "data protection authority of the EU/EEA country where you live or work"
UK = "Information Commissioner's Office (ICO), ico.org.uk"
CA = "California Privacy Protection Agency (cppa.ca.gov)"
CASES = [
    ("gdpr", EU, ("ico.org.uk", "Information Commissioner", "cppa.ca.gov")),
    ("uk_gdpr", UK, ("EU/EEA", "cppa.ca.gov")),
    ("ccpa", CA, ("ico.org.uk", "EU/EEA")),
]


@pytest.mark.parametrize(("regime", "named", "never"), CASES)
def test_each_regime_has_its_own_authority(regime, named, never):
    text = supervisory_authority(regime)

    assert named in text
    for other in never:
        assert other not in text


def test_ccpa_names_the_attorney_general_too():
    assert "Attorney General" in supervisory_authority("ccpa")


def test_one_configured_authority_overrides_every_regime(settings):
    # given the setting from before there was one per regime
    settings.SUPERVISORY_AUTHORITY = (
        "the Data Protection Commission (dataprotection.ie)"
    )

    # then it is named whatever the regime
    for regime in ("gdpr", "uk_gdpr", "ccpa"):
        assert supervisory_authority(regime) == settings.SUPERVISORY_AUTHORITY


def test_each_regimes_authority_is_configurable(settings):
    settings.SUPERVISORY_AUTHORITY = "  "  # blank: no override
    settings.SUPERVISORY_AUTHORITY_GDPR = "the CNIL (cnil.fr)"

    assert supervisory_authority("gdpr") == "the CNIL (cnil.fr)"
    assert supervisory_authority("uk_gdpr") == settings.SUPERVISORY_AUTHORITY_UK


@pytest.mark.parametrize(("regime", "named", "never"), CASES)
def test_rejection_email_names_the_requests_authority(
    regime,
    named,
    never,
    make_request,
    officer_actor,
    django_capture_on_commit_callbacks,
):
    # given a request under `regime`
    request = make_request(regime=regime)

    # when it is rejected
    with django_capture_on_commit_callbacks(execute=True):
        request_reject(actor=officer_actor, request=request, reason="Not identified.")

    # then both parts of the e-mail send the subject to that authority only
    (message,) = mail.outbox
    body_html = html.unescape(message.alternatives[0][0])
    for text in (message.body, body_html):
        assert named in text
        for other in never:
            assert other not in text
