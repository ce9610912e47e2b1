"""What differs between the regimes a request is made under, as the subject
is told it: for now, where to complain."""

from __future__ import annotations

from django.conf import settings

from dsr.choices import Regime


def supervisory_authority(regime: str) -> str:
    """The authority a subject of `regime` may complain to (GDPR 12(4),
    15(1)(f), 77; UK GDPR the same, to the ICO; CCPA the CPPA and the
    Attorney General). SUPERVISORY_AUTHORITY, when set, names one for all."""
    override = settings.SUPERVISORY_AUTHORITY.strip()
    if override:
        return override
    if regime == Regime.UK_GDPR:
        return str(settings.SUPERVISORY_AUTHORITY_UK)
    if regime == Regime.CCPA:
        return str(settings.SUPERVISORY_AUTHORITY_CCPA)
    return str(settings.SUPERVISORY_AUTHORITY_GDPR)
