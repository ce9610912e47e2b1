"""Filters of the evidence pack templates: they format the facts, never add any.

The templates render from the same JSON-ready facts that are embedded in the
PDF, so dates arrive as ISO strings and are shown in the controller's zone.
"""

from __future__ import annotations

import json
import textwrap
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import template
from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.CONTROLLER_TIME_ZONE)


@register.filter
def when(value: Any) -> str:
    """An ISO timestamp as '28 Nov 2026, 14:05 GMT' in the controller's zone."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    local = moment.astimezone(_zone())
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname()}"


@register.filter
def when_precise(value: Any) -> str:
    """As `when`, with seconds: for audit events."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    local = moment.astimezone(_zone())
    return f"{local.day} {local:%b %Y %H:%M:%S}"


@register.filter
def on(value: Any) -> str:
    """An ISO date as 'Mon 28 Dec 2026'."""
    if not value:
        return "—"
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{day:%a} {day.day} {day:%b %Y}"


@register.filter
def lookup(mapping: Any, key: Any) -> Any:
    if isinstance(mapping, dict):
        return mapping.get(key, key)
    return key


@register.filter
def gap_before(events: Any, index: int) -> bool:
    """Whether the chain has other events between this listed event and the
    one listed before it (then its previous hash is worth printing)."""
    if index == 0:
        return True
    return events[index]["prev_hash"] != events[index - 1]["hash"]


@register.filter
def compact(value: Any, limit: int = 110) -> str:
    """Event data on one line, shortened; evidence.json keeps it in full."""
    if not value:
        return ""
    if isinstance(value, dict):
        parts = []
        for key in sorted(value):
            item = value[key]
            if item in (None, "", [], {}):
                continue
            text = (
                json.dumps(item, ensure_ascii=False, separators=(",", ":"))
                if isinstance(item, dict | list)
                else str(item)
            )
            if len(text) > 40:
                text = text[:38] + "…"
            parts.append(f"{key}: {text}")
        joined = "; ".join(parts)
    else:
        joined = str(value)
    return joined if len(joined) <= limit else joined[: limit - 1] + "…"


@register.filter
def css_string(value: Any) -> str:
    """Text safe inside a CSS double-quoted string (running headers)."""
    out = []
    for char in str(value):
        if char.isalnum() or char in " -_.:/()#·—,":
            out.append(char)
        else:
            out.append(f"\\{ord(char):x} ")
    return "".join(out)


@register.filter
def filesize(value: Any) -> str:
    try:
        size = int(value)
    except (TypeError, ValueError):
        return "—"
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


@register.filter
def duration_ms(value: Any) -> str:
    if value in (None, ""):
        return "—"
    ms = int(value)
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


@register.filter
def seconds(value: Any) -> str:
    if value in (None, ""):
        return "—"
    total = float(value)
    if total < 60:
        return f"{total:.1f} s"
    minutes, rest = divmod(int(total), 60)
    return f"{minutes} min {rest} s"


@register.filter
def setting(value: Any) -> str:
    """A settings value for people: lists joined, booleans in words."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "—"
    if value in (None, ""):
        return "—"
    return str(value)


@register.filter
def yesno_mark(value: Any) -> str:
    return "yes" if value else "no"


# --- the audit listing -----------------------------------------------------------
# One monospaced row per event instead of a six-column table: the same
# columns, a fraction of the layout work (most of a large pack's rendering).
_NUMBER, _WHEN, _EVENT, _ACTOR, _DATA = 6, 20, 28, 24, 36


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@register.simple_tag
def audit_header() -> str:
    return (
        f"{'#':>{_NUMBER}}  {'When':<{_WHEN}}  {'Event':<{_EVENT}}  "
        f"{'Actor':<{_ACTOR}}  {'Data (abbreviated)':<{_DATA}}  "
        "Hash; under it, the previous hash where other events intervene"
    )


@register.simple_tag
def audit_row(event: dict[str, Any], actors: dict[str, str], gap: bool) -> SafeString:
    """One line per event (number, time, action, actor, data, hash); a second
    for longer data and, where the chain has other events in between, the
    previous hash under the hash."""
    actor = actors.get(event["actor"], event["actor"])
    data = textwrap.wrap(
        compact(event.get("data"), 2 * _DATA) or "",
        _DATA,
        max_lines=2,
        placeholder="…",
        break_long_words=True,
    ) or [""]
    first = (
        f"{event['sequence']:>{_NUMBER}}  {when_precise(event['occurred_at']):<{_WHEN}}"
        f"  {_cut(event['action'], _EVENT):<{_EVENT}}  {_cut(actor, _ACTOR):<{_ACTOR}}"
        f"  {data[0]:<{_DATA}}  {event['hash']}"
    )
    html: str = escape(first)
    if len(data) > 1 or gap:
        indent = _NUMBER + _WHEN + _EVENT + _ACTOR + 8
        second = data[1] if len(data) > 1 else ""
        html += "\n" + escape(f"{'':{indent}}{second:<{_DATA}}  ")
        if gap:
            html += f'<span class="prev">{escape(event["prev_hash"])}</span>'
    return mark_safe(html)  # noqa: S308 (every part is escaped above)
