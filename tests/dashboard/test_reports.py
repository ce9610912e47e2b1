"""Reports: the charts of volume and timeliness, and the CCPA metrics (Cal.
Code Regs. tit. 11 §7102) as a page and CSV, checked against requests with
known outcomes and times."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

import time_machine
from django.test import Client
from django.urls import reverse

from accounts.actors import Actor, actor_system
from audit.models import AuditEvent
from consent.seed import seed_purposes
from consent.services.events import consent_apply_gpc
from dashboard.charts import bar_chart, column_chart
from dsr.clock import local_today
from dsr.models import Request
from dsr.services.requests import request_cancel, request_close, request_reject
from subjects.claims import identity_claims
from subjects.services import subject_get_or_create

REPORTS = reverse("dashboard:reports")
CCPA = reverse("dashboard:ccpa_report")
CCPA_CSV = reverse("dashboard:ccpa_report_csv")


def _at(year: int, month: int, day: int) -> Any:
    return time_machine.travel(
        datetime(year, month, day, 15, 0, tzinfo=UTC), tick=False
    )


def _answered(
    make_request,
    officer: Actor,
    *,
    kind: str,
    regime: str,
    received: tuple[int, int, int],
    answered: tuple[int, int, int] | None,
    outcome: str = "completed",
    basis: str = "",
) -> Request:
    """A request received on one day and answered on another (None: open)."""
    with _at(*received):
        dsr = make_request(kind=kind, regime=regime, verified=True, **_extra(kind))
    if answered is None:
        return dsr
    with _at(*answered):
        if outcome == "rejected":
            return request_reject(
                actor=officer, request=dsr, reason="Could not verify.", basis=basis
            )
        if outcome == "cancelled":
            return request_cancel(actor=officer, request=dsr, reason="Withdrawn")
        return request_close(
            actor=officer,
            request=dsr,
            outcome=outcome,
            note="" if outcome == "completed" else "One store failed for good.",
        )


def _extra(kind: str) -> dict[str, Any]:
    if kind == "rectification":
        return {"corrections": {"requested_correction": "Surname is Byron"}}
    return {}


# --- the chart helper ---------------------------------------------------------


def test_charts_keep_their_shape_and_scale_to_the_largest_value() -> None:
    bars = bar_chart("By kind", [("Access", 10), ("Erasure", 5), ("Objection", 0)])
    columns = column_chart("Per month", [("Jan", 2), ("Feb", None), ("Mar", 4)])

    access, erasure, objection = bars.bars
    assert erasure.width == access.width / 2
    assert objection.width == 0
    assert [b.text for b in columns.bars] == ["2", "", "4"]
    jan, feb, mar = columns.bars
    assert jan.height == mar.height / 2
    assert feb.height == 0
    # every bar fits the canvas
    for chart in (bars, columns):
        for bar in chart.bars:
            assert bar.x >= 0
            assert bar.x + bar.width <= chart.width
            assert bar.y >= 0
            assert bar.y + bar.height <= chart.height


def test_reports_page_draws_svg_charts_without_scripts_or_stretching(
    officer_client: Client, make_request, officer_actor: Actor
) -> None:
    _answered(
        make_request,
        officer_actor,
        kind="erasure",
        regime="ccpa",
        received=(2026, 3, 2),
        answered=(2026, 3, 9),
    )
    with _at(2026, 3, 20):
        response = officer_client.get(REPORTS, {"months": "3"})

    page = response.content.decode()
    assert response.status_code == 200
    svgs = re.findall(r"<svg[^>]*>", page)
    assert len(svgs) == 5
    for svg in svgs:
        assert 'preserveAspectRatio="xMinYMin meet"' in svg
        assert re.search(r'viewBox="0 0 400 \d+"', svg)
        assert 'preserveAspectRatio="none"' not in svg
    assert '<script src="http' not in page  # no CDN
    assert "Requests received by kind" in page


def test_reports_figures_match_requests_with_known_times(
    officer_client: Client, make_request, officer_actor: Actor
) -> None:
    # given, in January 2026 (a month's deadline), three requests answered:
    # 5 and 9 days after receipt on time, one 40 days after (late)
    _answered(
        make_request,
        officer_actor,
        kind="access",
        regime="gdpr",
        received=(2026, 1, 5),
        answered=(2026, 1, 10),
    )
    _answered(
        make_request,
        officer_actor,
        kind="erasure",
        regime="uk_gdpr",
        received=(2026, 1, 12),
        answered=(2026, 1, 21),
    )
    _answered(
        make_request,
        officer_actor,
        kind="erasure",
        regime="gdpr",
        received=(2026, 1, 2),
        answered=(2026, 2, 11),
        outcome="partially_completed",
    )
    # and one cancelled (withdrawn: not an answer)
    _answered(
        make_request,
        officer_actor,
        kind="access",
        regime="ccpa",
        received=(2026, 2, 2),
        answered=(2026, 2, 3),
        outcome="cancelled",
    )

    with _at(2026, 2, 20):
        response = officer_client.get(REPORTS, {"months": "3"})

    stats = response.context["stats"]
    assert stats.received == 4
    assert stats.answered == 3
    assert stats.on_time == 2
    assert stats.median_days == 9
    january, february = stats.months[1], stats.months[2]
    assert (january.received, january.answered, january.on_time) == (3, 2, 2)
    assert january.median_days == 7  # 5 and 9
    assert (february.received, february.answered, february.on_time) == (1, 1, 0)
    assert february.median_days == 40
    kinds = {value: count for value, _label, count in stats.by_kind}
    assert kinds["access"] == 2
    assert kinds["erasure"] == 2
    regimes = {value: count for value, _label, count in stats.by_regime}
    assert regimes == {"gdpr": 2, "uk_gdpr": 1, "ccpa": 1}
    page = response.content.decode()
    assert "67%" in page  # 2 of 3 on time, the summary's figure


# --- CCPA §7102 ---------------------------------------------------------------


def _ccpa_year(make_request, officer: Actor) -> None:
    """2025's CCPA requests, with known outcomes and days."""
    make = make_request
    # deletes: 10 days (whole), 20 days (in part), denied unverifiable in 3
    _answered(
        make, officer, kind="erasure", regime="ccpa",
        received=(2025, 3, 3), answered=(2025, 3, 13),
    )  # fmt: skip
    _answered(
        make, officer, kind="erasure", regime="ccpa",
        received=(2025, 5, 1), answered=(2025, 5, 21),
        outcome="partially_completed",
    )  # fmt: skip
    _answered(
        make, officer, kind="erasure", regime="ccpa",
        received=(2025, 6, 2), answered=(2025, 6, 5),
        outcome="rejected", basis="unverifiable",
    )  # fmt: skip
    # know: access done in 30 days, portability still open (received in
    # December, not answered), and an access answered next January (40 days)
    _answered(
        make, officer, kind="access", regime="ccpa",
        received=(2025, 7, 1), answered=(2025, 7, 31),
    )  # fmt: skip
    _answered(
        make, officer, kind="portability", regime="ccpa",
        received=(2025, 12, 20), answered=None,
    )  # fmt: skip
    _answered(
        make, officer, kind="access", regime="ccpa",
        received=(2025, 12, 1), answered=(2026, 1, 10),
    )  # fmt: skip
    # correct: denied with no ground stated (counts as other grounds)
    _answered(
        make, officer, kind="rectification", regime="ccpa",
        received=(2025, 8, 4), answered=(2025, 8, 6),
        outcome="rejected",
    )  # fmt: skip
    # not counted: a GDPR request, and a CCPA one from another year
    _answered(
        make, officer, kind="erasure", regime="gdpr",
        received=(2025, 4, 1), answered=(2025, 4, 2),
    )  # fmt: skip
    _answered(
        make, officer, kind="erasure", regime="ccpa",
        received=(2026, 1, 5), answered=(2026, 1, 6),
    )  # fmt: skip


def test_ccpa_metrics_count_each_type_as_section_7102_asks(
    officer_client: Client, make_request, officer_actor: Actor
) -> None:
    _ccpa_year(make_request, officer_actor)

    with _at(2026, 3, 1):
        response = officer_client.get(CCPA)  # the previous year by default

    report = response.context["report"]
    assert report.year == 2025
    rows = {row.key: row for row in report.rows}
    delete = rows["delete"]
    assert (delete.received, delete.complied, delete.denied) == (3, 2, 1)
    assert (delete.complied_whole, delete.complied_part) == (1, 1)
    assert delete.denied_for("unverifiable") == 1
    assert delete.median_days == 10  # 3, 10, 20
    assert delete.mean_days == 11.0
    know = rows["know"]
    assert (know.received, know.complied, know.denied, know.pending) == (3, 2, 0, 1)
    assert know.median_days == 35  # 30 and 40
    correct = rows["correct"]
    assert (correct.received, correct.denied) == (1, 1)
    assert correct.denied_for("other") == 1
    assert correct.median_days == 2
    assert rows["opt_out"].received == 0
    assert rows["limit"].median_days is None
    page = response.content.decode()
    assert "Requests to delete" in page
    assert "§7102" in page


def test_ccpa_opt_outs_include_gpc_withdrawals_once_per_person(
    officer_client: Client, make_request, django_capture_on_commit_callbacks
) -> None:
    # given a browser's GPC signal this year (the policies in force now)
    seed_purposes()
    subject = subject_get_or_create(claims=identity_claims({"email": "g@example.com"}))
    with django_capture_on_commit_callbacks(execute=False):
        recorded = consent_apply_gpc(actor=actor_system("tests"), subject=subject)
    assert len(recorded) >= 2  # one withdrawal per sale/sharing purpose

    response = officer_client.get(CCPA, {"year": str(local_today().year)})

    opt_out = {row.key: row for row in response.context["report"].rows}["opt_out"]
    assert (opt_out.received, opt_out.complied, opt_out.denied) == (1, 1, 0)
    assert opt_out.median_days == 0
    assert response.context["report"].optout_withdrawals == 1


def test_ccpa_csv_carries_the_same_figures_and_is_audited(
    officer_client: Client, make_request, officer_actor: Actor
) -> None:
    _ccpa_year(make_request, officer_actor)

    response = officer_client.get(CCPA_CSV, {"year": "2025"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="ccpa-metrics-2025.csv"' in response["Content-Disposition"]
    rows = {
        row["request_type"]: row
        for row in csv.DictReader(io.StringIO(response.content.decode()))
    }
    assert list(rows) == ["know", "delete", "correct", "opt_out", "limit"]
    delete = rows["delete"]
    assert delete["year"] == "2025"
    assert delete["received"] == "3"
    assert delete["complied_in_whole_or_in_part"] == "2"
    assert delete["denied"] == "1"
    assert delete["denied_unverifiable"] == "1"
    assert delete["median_days_to_respond"] == "10.0"
    assert rows["limit"]["median_days_to_respond"] == ""
    assert rows["know"]["not_answered_yet"] == "1"
    event = AuditEvent.objects.get(action="ccpa_metrics.exported")
    assert event.data == {"rows": 5, "filters": {"year": 2025}}


def test_a_rejection_ground_must_be_one_of_the_choices(
    officer_client: Client, make_request
) -> None:
    dsr = make_request()

    response = officer_client.post(
        reverse("dashboard:request_action", args=[dsr.public_id, "reject"]),
        {
            "reject-reason": "We could not confirm who asked.",
            "reject-basis": "because",
            "reject-confirm": "on",
        },
    )

    assert response.status_code == 200
    assert response.context["forms"]["reject"].errors["basis"]
    dsr.refresh_from_db()
    assert dsr.status == "received"


def test_reports_and_ccpa_are_read_only_for_an_auditor(
    auditor_client: Client, make_request
) -> None:
    make_request(regime="ccpa")

    assert auditor_client.get(REPORTS).status_code == 200
    assert auditor_client.get(CCPA).status_code == 200
    assert auditor_client.post(CCPA).status_code == 405
