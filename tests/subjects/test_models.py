"""The models that moved between apps kept their tables and content types."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType

from audit.selectors import audit_object_types
from dsr.models import LegalHold
from subjects.models import DataSubject, SubjectIdentifier

pytestmark = pytest.mark.django_db


def test_moved_models_keep_their_tables() -> None:
    assert DataSubject._meta.db_table == "dsr_datasubject"
    assert SubjectIdentifier._meta.db_table == "dsr_subjectidentifier"
    history = SubjectIdentifier.history.model
    assert history._meta.db_table == "dsr_historicalsubjectidentifier"
    assert LegalHold._meta.db_table == "retention_legalhold"


def test_moved_models_have_content_types_in_their_new_apps() -> None:
    assert ContentType.objects.get_for_model(DataSubject).app_label == "subjects"
    assert ContentType.objects.get_for_model(LegalHold).app_label == "dsr"


def test_a_holds_audit_events_include_those_from_before_the_move() -> None:
    assert audit_object_types(LegalHold) == ("dsr.legalhold", "retention.legalhold")
    assert audit_object_types(DataSubject) == ("subjects.datasubject",)
