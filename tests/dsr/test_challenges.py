"""One-time codes: one service for every purpose, counted atomically."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import DatabaseError, connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dsr.choices import ChallengePurpose
from dsr.models import Request, VerificationChallenge
from dsr.services.challenges import (
    challenge_check,
    challenge_get_open,
    challenge_issue,
    challenge_use,
)
from privacydesk.errors import ValidationFailed

VERIFY = ChallengePurpose.VERIFY
DOWNLOAD = ChallengePurpose.DOWNLOAD
MakeRequest = Callable[..., Request]


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


@pytest.mark.django_db
def test_a_code_opens_only_its_own_purpose(make_request: MakeRequest) -> None:
    # given a verification code and a download code for one request
    request = make_request()
    verify = challenge_issue(request=request, purpose=VERIFY)
    download = challenge_issue(request=request, purpose=DOWNLOAD)

    # when each code is typed for the other purpose
    with pytest.raises(ValidationFailed, match="not right"):
        challenge_check(request=request, purpose=DOWNLOAD, code=verify.code)
    with pytest.raises(ValidationFailed, match="not right"):
        challenge_check(request=request, purpose=VERIFY, code=download.code)

    # then both are refused, and each still opens its own purpose
    assert challenge_check(request=request, purpose=VERIFY, code=verify.code) == (
        verify.challenge
    )
    assert challenge_check(request=request, purpose=DOWNLOAD, code=download.code) == (
        download.challenge
    )


@pytest.mark.django_db
def test_a_new_code_retires_only_the_earlier_codes_of_its_purpose(
    make_request: MakeRequest,
) -> None:
    # given a verification code
    request = make_request()
    verify = challenge_issue(request=request, purpose=VERIFY)

    # when a download code is issued
    challenge_issue(request=request, purpose=DOWNLOAD)

    # then the verification code still works
    assert challenge_check(request=request, purpose=VERIFY, code=verify.code)


@pytest.mark.django_db
def test_a_link_opens_only_a_challenge_of_its_purpose(
    make_request: MakeRequest,
) -> None:
    request = make_request()
    download = challenge_issue(request=request, purpose=DOWNLOAD).challenge

    with pytest.raises(ValidationFailed) as refused:
        challenge_get_open(challenge_id=download.pk, purpose=VERIFY)

    assert refused.value.field == "link"
    assert challenge_get_open(challenge_id=download.pk, purpose=DOWNLOAD) == download


@pytest.mark.django_db
def test_a_used_code_is_told_apart_from_an_expired_one(
    make_request: MakeRequest, settings: Any
) -> None:
    # given a code that was used, and one that ran out
    used_request, late_request = make_request(), make_request()
    used = challenge_issue(request=used_request, purpose=DOWNLOAD)
    challenge_use(
        challenge=challenge_check(
            request=used_request, purpose=DOWNLOAD, code=used.code
        )
    )
    late = challenge_issue(request=late_request, purpose=DOWNLOAD)
    later = timezone.now() + timedelta(minutes=settings.PORTAL_CODE_TTL_MINUTES + 1)

    # then each refusal says which
    with pytest.raises(ValidationFailed, match="used already"):
        challenge_check(request=used_request, purpose=DOWNLOAD, code=used.code)
    with (
        time_machine.travel(later, tick=False),
        pytest.raises(ValidationFailed, match="expired"),
    ):
        challenge_check(request=late_request, purpose=DOWNLOAD, code=late.code)
    with pytest.raises(ValidationFailed, match="used already"):
        challenge_get_open(challenge_id=used.challenge.pk, purpose=DOWNLOAD)
    # and a refused check counts nothing
    used.challenge.refresh_from_db()
    assert used.challenge.attempts == 1


@pytest.mark.django_db
def test_a_matched_code_is_spent_once(make_request: MakeRequest) -> None:
    request = make_request()
    issued = challenge_issue(request=request, purpose=VERIFY)
    first = challenge_check(request=request, purpose=VERIFY, code=issued.code)
    second = challenge_check(request=request, purpose=VERIFY, code=issued.code)

    challenge_use(challenge=first)

    with pytest.raises(ValidationFailed, match="used already"):
        challenge_use(challenge=second)


@pytest.mark.django_db
def test_an_attempt_is_counted_in_the_database_not_read_then_written(
    make_request: MakeRequest, settings: Any
) -> None:
    # given
    request = make_request()
    issued = challenge_issue(request=request, purpose=VERIFY)

    # when a wrong code is checked
    with (
        CaptureQueriesContext(connection) as queries,
        pytest.raises(ValidationFailed, match="4 tries left"),
    ):
        challenge_check(request=request, purpose=VERIFY, code=_wrong(issued.code))

    # then the count is one UPDATE adding 1 under the limit, in the database
    (update,) = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert '"attempts" = ("dsr_verificationchallenge"."attempts" + 1)' in update
    assert f'"attempts" < {settings.PORTAL_CODE_MAX_ATTEMPTS}' in update


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_concurrent_wrong_guesses_are_all_counted_and_the_limit_holds(
    make_request: MakeRequest, settings: Any
) -> None:
    # given a code, and more guessers at once than the attempts allowed
    settings.PORTAL_CODE_MAX_ATTEMPTS = 5
    guessers = 8
    request = make_request()
    issued = challenge_issue(request=request, purpose=VERIFY)
    wrong = _wrong(issued.code)
    start = threading.Barrier(guessers)
    refusals: list[str] = []
    errors: list[BaseException] = []

    def guess() -> None:
        try:
            start.wait()
            challenge_check(request=request, purpose=VERIFY, code=wrong)
        except ValidationFailed as refusal:
            refusals.append(refusal.message)
        except (DatabaseError, threading.BrokenBarrierError) as error:
            errors.append(error)
        finally:
            connections.close_all()

    # when every guesser, each on its own connection, tries a wrong code
    threads = [threading.Thread(target=guess) for _ in range(guessers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then every guess was counted up to the limit, and the rest refused
    assert errors == []
    assert VerificationChallenge.objects.get(pk=issued.challenge.pk).attempts == 5
    assert sum("not right" in message for message in refusals) == 5
    assert sum("too many" in message for message in refusals) == guessers - 5
    # and even the right code is refused now
    with pytest.raises(ValidationFailed, match="too many"):
        challenge_check(request=request, purpose=VERIFY, code=issued.code)
