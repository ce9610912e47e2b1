"""What an erasure keeps, with its basis: a record kept as its rule says
(`keep` with a basis, or not the subject's own), and copies of a deleted
record the vendor's API cannot reach (`persists`: a model provider's
abuse-monitoring logs), with the date until which they may persist."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.utils import timezone

from connectors.base import ConnectorError, ErasureReceipt, Exemption
from connectors.kinds.saas.templates import render
from connectors.kinds.saas.walk import Found


def exempt(
    receipt: ErasureReceipt, location: str, rule: Mapping[str, Any], until: str = ""
) -> None:
    """One more record of `location` kept as `rule` says (basis, reason),
    counted on its exemption; `until` the day it may persist to, if known."""
    for index, exemption in enumerate(receipt.exemptions):
        if exemption.location == location and exemption.basis == rule["basis"]:
            receipt.exemptions[index] = replace(
                exemption, count=exemption.count + 1, until=max(exemption.until, until)
            )
            return
    receipt.exemptions.append(
        Exemption(location, (), rule["basis"], rule.get("reason", ""), 1, until)
    )


def persists(receipt: ErasureReceipt, found: Found, rule: Mapping[str, Any]) -> None:
    """Copies of a deleted record the API cannot reach (a model provider's
    abuse-monitoring logs) may outlive it by `days`: an exemption with its
    basis and that date; none when the days are 0 (zero data retention)."""
    days = rule["days"]
    if isinstance(days, str):
        try:
            days = int(render(days, found.context))
        except ValueError:
            raise ConnectorError(
                f"erase.persists.days of {found.type} is not a number of days",
                permanent=True,
            ) from None
    if days <= 0:
        return
    until = (timezone.now() + timedelta(days=days)).date().isoformat()
    exempt(receipt, found.type, rule, until)
