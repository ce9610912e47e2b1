"""Charts drawn on the server as SVG: no script, no CDN, right at any width.

A chart is laid out here in SVG user units on a fixed-width canvas and drawn
by `templates/dashboard/_chart.html`. The SVG keeps its aspect ratio
(`preserveAspectRatio="xMinYMin meet"`, width 100%, height auto), so it
scales as a whole and its text is never stretched; the CSS caps its width so
the text stays near its design size on a wide screen. Every chart carries
its figures as a table too (for screen readers, and to copy).

    chart = bar_chart("Requests by kind", [("Access", 12), ("Erasure", 4)])
    {% include "dashboard/_chart.html" with chart=chart %}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import count

WIDTH = 400  # every chart is this wide, in user units
FONT = 12  # label size, in user units
_ids = count(1)


def _plain(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Bar:
    """One bar: its label and value, and where it is drawn."""

    label: str
    value: float | None
    text: str  # the value as shown ("" when there is none)
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Chart:
    """A laid-out chart: `kind` is "bars" (horizontal, one row per item) or
    "columns" (vertical, one per item along a time axis)."""

    id: str
    title: str
    kind: str
    width: int
    height: int
    bars: list[Bar]
    baseline: float  # where the bars start (x for bars, y for columns)
    value_heading: str

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)


def _scale(values: Sequence[float | None], max_value: float | None) -> float:
    top = (
        max_value if max_value is not None else max((v or 0 for v in values), default=0)
    )
    return top or 1.0


def bar_chart(
    title: str,
    items: Sequence[tuple[str, float | None]],
    *,
    value_text: Callable[[float], str] = _plain,
    max_value: float | None = None,
    value_heading: str = "Value",
) -> Chart:
    """Horizontal bars, one row per (label, value), labels on the left."""
    row, bar_h, label_w, value_w = 26, 16, 150, 44
    track = WIDTH - label_w - value_w
    top = _scale([v for _, v in items], max_value)
    bars = []
    for index, (label, value) in enumerate(items):
        y = 6 + index * row
        length = track * (value or 0) / top
        bars.append(
            Bar(
                label=label,
                value=value,
                text=value_text(value) if value is not None else "",
                x=label_w,
                y=y,
                width=round(length, 1),
                height=bar_h,
                label_x=label_w - 8,
                label_y=y + bar_h / 2,
                text_x=round(label_w + length + 6, 1),
                text_y=y + bar_h / 2,
            )
        )
    return Chart(
        id=f"chart-{next(_ids)}",
        title=title,
        kind="bars",
        width=WIDTH,
        height=12 + len(items) * row,
        bars=bars,
        baseline=label_w,
        value_heading=value_heading,
    )


def column_chart(
    title: str,
    items: Sequence[tuple[str, float | None]],
    *,
    value_text: Callable[[float], str] = _plain,
    max_value: float | None = None,
    value_heading: str = "Value",
) -> Chart:
    """Vertical columns along an axis (months, say), the value above each
    and the label below; an item without a value gets no column."""
    height, top_pad, bottom_pad = 170, 20, 22
    plot = height - top_pad - bottom_pad
    slot = WIDTH / max(len(items), 1)
    width = min(slot * 0.7, 40)
    top = _scale([v for _, v in items], max_value)
    baseline = height - bottom_pad
    bars = []
    for index, (label, value) in enumerate(items):
        centre = slot * index + slot / 2
        length = plot * (value or 0) / top
        bars.append(
            Bar(
                label=label,
                value=value,
                text=value_text(value) if value is not None else "",
                x=round(centre - width / 2, 1),
                y=round(baseline - length, 1),
                width=round(width, 1),
                height=round(length, 1),
                label_x=round(centre, 1),
                label_y=baseline + FONT + 2,
                text_x=round(centre, 1),
                text_y=round(baseline - length - 5, 1),
            )
        )
    return Chart(
        id=f"chart-{next(_ids)}",
        title=title,
        kind="columns",
        width=WIDTH,
        height=height,
        bars=bars,
        baseline=baseline,
        value_heading=value_heading,
    )


def percent(value: float) -> str:
    """A share (0..1) as a whole percentage."""
    return f"{round(value * 100)}%"


def days(value: float) -> str:
    return f"{value:g} d"
