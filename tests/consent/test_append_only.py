"""On PostgreSQL the database itself refuses to change or remove consent proof."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from consent.models import ConsentEvent, PolicyVersion

pytestmark = pytest.mark.django_db


def _refused(sql: str, params: list) -> str:
    with pytest.raises(DatabaseError) as error, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    return str(error.value)


def test_events_cannot_be_updated_or_deleted(ada, choose):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    event = choose(ada, "ai_training", True).event

    updated = _refused(
        "UPDATE consent_consentevent SET action = 'withdraw' WHERE id = %s",
        [event.pk],
    )
    deleted = _refused("DELETE FROM consent_consentevent WHERE id = %s", [event.pk])

    assert "append-only" in updated
    assert "append-only" in deleted
    assert ConsentEvent.objects.get(pk=event.pk).action == "grant"
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentEvent.objects.filter(pk=event.pk).delete()
    assert ConsentEvent.objects.filter(pk=event.pk).exists()


def test_published_wording_cannot_be_edited():
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    version = PolicyVersion.objects.first()

    refused = _refused(
        "UPDATE consent_policyversion SET text = 'something else' WHERE id = %s",
        [version.pk],
    )

    assert "append-only" in refused
    assert PolicyVersion.objects.get(pk=version.pk).text == version.text


@pytest.mark.django_db(transaction=True)
def test_truncate_still_works_for_test_resets(ada, choose):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    choose(ada, "ai_training", True)

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE consent_consentevent CASCADE")

    assert not ConsentEvent.objects.exists()
