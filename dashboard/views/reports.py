"""Reports: request volume and timeliness as charts, and the CCPA metrics
(Cal. Code Regs. tit. 11 §7102) as a page and CSV."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from accounts.actors import Actor
from audit.services import audit_export_record
from consent.selectors.ccpa import CcpaReport, ccpa_metrics
from dashboard.charts import bar_chart, column_chart, days, percent
from dashboard.views.common import csv_response, page, staff_view
from dsr.choices import DenialBasis
from dsr.clock import local_today
from dsr.reports import request_stats

PERIODS = (3, 6, 12, 24)  # months a report may cover
DEFAULT_MONTHS = 12


def _months(request: HttpRequest) -> int:
    try:
        months = int(request.GET.get("months", DEFAULT_MONTHS))
    except ValueError:
        return DEFAULT_MONTHS
    return months if months in PERIODS else DEFAULT_MONTHS


@require_GET
@staff_view
def reports(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Volume by month, kind and regime; on-time rate and median days to
    close by month, over the chosen months."""
    months = _months(request)
    today = local_today()
    stats = request_stats(actor=actor, last=today, months=months)
    label = "%b" if months <= 12 else "%b %y"
    charts = {
        "volume": column_chart(
            "Requests received per month",
            [(m.month.strftime(label), m.received) for m in stats.months],
            value_heading="Received",
        ),
        "kind": bar_chart(
            "Requests received by kind",
            [(name.split(" (")[0], count) for _, name, count in stats.by_kind],
            value_heading="Received",
        ),
        "regime": bar_chart(
            "Requests received by regime",
            [(name, count) for _, name, count in stats.by_regime],
            value_heading="Received",
        ),
        "on_time": column_chart(
            "Share answered by the due date, per month answered",
            [(m.month.strftime(label), m.on_time_rate) for m in stats.months],
            value_text=percent,
            max_value=1.0,
            value_heading="On time",
        ),
        "median": column_chart(
            "Median days from receipt to answer, per month answered",
            [(m.month.strftime(label), m.median_days) for m in stats.months],
            value_text=days,
            value_heading="Median days",
        ),
    }
    return page(
        request,
        actor,
        "dashboard/reports.html",
        {
            "section": "reports",
            "stats": stats,
            "charts": charts,
            "months": months,
            "periods": PERIODS,
            "ccpa_year": today.year - 1,
        },
    )


def _year(request: HttpRequest) -> int:
    """The report's year: the previous calendar year unless another is asked
    for (§7102 reports the previous calendar year)."""
    default = local_today().year - 1
    try:
        year = int(request.GET.get("year", default))
    except ValueError:
        return default
    return year if 2000 <= year <= local_today().year else default


DENIAL_COLUMNS = [
    (DenialBasis.UNVERIFIABLE, "denied_unverifiable"),
    (DenialBasis.NOT_CONSUMER, "denied_not_consumer"),
    (DenialBasis.EXEMPT, "denied_exempt"),
    (DenialBasis.OTHER, "denied_other"),
]


@require_GET
@staff_view
def ccpa_report(request: HttpRequest, actor: Actor) -> HttpResponse:
    """§7102(a)(1) metrics for a calendar year, per request type."""
    year = _year(request)
    report = ccpa_metrics(actor=actor, year=year)
    return page(
        request,
        actor,
        "dashboard/ccpa_report.html",
        {
            "section": "reports",
            "report": report,
            "years": list(range(local_today().year, local_today().year - 6, -1)),
            "denial_grounds": [(basis, basis.label) for basis, _ in DENIAL_COLUMNS],
            "rows": [
                (row, [row.denied_for(basis) for basis, _ in DENIAL_COLUMNS])
                for row in report.rows
            ],
        },
    )


CCPA_CSV_COLUMNS = [
    "year",
    "request_type",
    "received",
    "complied_in_whole_or_in_part",
    "complied_in_whole",
    "complied_in_part",
    "denied",
    *(column for _, column in DENIAL_COLUMNS),
    "median_days_to_respond",
    "mean_days_to_respond",
    "not_answered_yet",
]


def _ccpa_rows(report: CcpaReport) -> list[list[Any]]:
    return [
        [
            report.year,
            row.key,
            row.received,
            row.complied,
            row.complied_whole,
            row.complied_part,
            row.denied,
            *(row.denied_for(basis) for basis, _ in DENIAL_COLUMNS),
            "" if row.median_days is None else row.median_days,
            "" if row.mean_days is None else row.mean_days,
            row.pending,
        ]
        for row in report.rows
    ]


@require_GET
@staff_view
def ccpa_report_csv(request: HttpRequest, actor: Actor) -> HttpResponse:
    year = _year(request)
    report = ccpa_metrics(actor=actor, year=year)
    rows = _ccpa_rows(report)
    audit_export_record(
        actor=actor, what="ccpa_metrics", rows=len(rows), filters={"year": year}
    )
    return csv_response(f"ccpa-metrics-{year}.csv", CCPA_CSV_COLUMNS, rows)
