"""A database at the state before the move migrates forward with its data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from privacydesk import crypto
from subjects.models import DataSubject, SubjectIdentifier

BEFORE = [("subjects", None)]  # and so every migration that builds on it


def _migrate(targets: list[tuple[str, str | None]]) -> Any:
    """Migrate the test database; returns the apps of the state reached."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    applied = list(executor.loader.applied_migrations)
    return executor.loader.project_state(applied).apps


def _leaves() -> list[tuple[str, str | None]]:
    return list(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.fixture
def at_state_before_the_move(transactional_db: Any) -> Iterator[Any]:
    """The old state (models in dsr); always migrated forward again after."""
    try:
        yield _migrate(BEFORE)
    finally:
        _migrate(_leaves())
        ContentType.objects.clear_cache()


def test_subjects_and_identifiers_survive_the_move(
    at_state_before_the_move: Any,
) -> None:
    # given a subject and an identifier written through the old dsr models
    old = at_state_before_the_move
    content_types = old.get_model("contenttypes", "ContentType").objects
    old_type = content_types.get(app_label="dsr", model="subjectidentifier")
    subject = old.get_model("dsr", "DataSubject").objects.create()
    old.get_model("dsr", "SubjectIdentifier").objects.create(
        subject=subject,
        kind="email",
        namespace="",
        value="ada@example.com",
        blind_index=crypto.blind_index("email", "ada@example.com"),
    )
    # when the database migrates forward
    _migrate(_leaves())
    ContentType.objects.clear_cache()
    # then the same rows read through the subjects app
    moved = DataSubject.objects.get(public_id=subject.public_id)
    assert moved.identifiers.get().value == "ada@example.com"
    assert SubjectIdentifier.objects.count() == 1
    # and the content type is the same row, now named for its app
    assert ContentType.objects.get_for_model(SubjectIdentifier).pk == old_type.pk
