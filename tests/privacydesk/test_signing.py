"""Signed tokens: one helper, the salts of the links already sent kept."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.core import signing

from consent.links import consent_token_read
from dsr.links import status_token, status_token_read, verify_token_read
from dsr.packages.links import download_token, download_token_read
from privacydesk.signing import SignedReading, signed_token_make, signed_token_read

PUBLIC_ID = "7d4c6c1e-1f8b-4a57-9b1b-0c5a4a4e9b11"


def test_a_token_reads_back_for_its_purpose_only() -> None:
    token = signed_token_make(purpose="a", value="42")

    assert signed_token_read(
        purpose="a", token=token, max_age=timedelta(minutes=1)
    ) == SignedReading("42")
    assert signed_token_read(
        purpose="b", token=token, max_age=timedelta(minutes=1)
    ) == SignedReading(None)


def test_an_expired_token_is_told_apart_from_a_bad_one() -> None:
    with time_machine.travel("2026-03-01 10:00:00+00:00", tick=False):
        token = signed_token_make(purpose="a", value="42")
    with time_machine.travel("2026-03-01 10:02:00+00:00", tick=False):
        reading = signed_token_read(
            purpose="a", token=token, max_age=timedelta(minutes=1)
        )
        tampered = signed_token_read(
            purpose="a", token=token[:-1] + "x", max_age=timedelta(minutes=1)
        )

    assert reading == SignedReading(None, expired=True)
    assert tampered == SignedReading(None)


def test_links_signed_before_the_helper_still_read() -> None:
    # given tokens made as the three link modules made them before (salts kept)
    def old(salt: str, value: str) -> str:
        return signing.TimestampSigner(salt=salt).sign(value)

    # then each still reads through its wrapper
    assert status_token_read(old("dsr.status-link", PUBLIC_ID)) == PUBLIC_ID
    assert verify_token_read(old("dsr.verify-link", "17")) == 17
    assert consent_token_read(old("consent.page-link", PUBLIC_ID)) == PUBLIC_ID
    assert download_token_read(old("access-package", PUBLIC_ID)).value == PUBLIC_ID


def test_a_status_link_never_passes_for_a_download_link_or_back() -> None:
    assert download_token_read(status_token(PUBLIC_ID)) == SignedReading(None)
    assert status_token_read(download_token(PUBLIC_ID)) is None
    assert consent_token_read(status_token(PUBLIC_ID)) is None
