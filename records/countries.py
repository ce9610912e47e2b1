"""Which countries are in the European Economic Area: a recipient elsewhere
receives a transfer (GDPR Chapter V) that needs a safeguard in the record.

Countries are written as people write them (a store's disclosure is free
text), so both the ISO 3166-1 alpha-2 code and the English short name are
known. A spelling not listed here counts as outside the EEA: the record then
asks for a safeguard instead of assuming none is needed.
"""

from __future__ import annotations

# The 27 EU member states and Iceland, Liechtenstein and Norway.
EEA: dict[str, str] = {
    "AT": "Austria",
    "BE": "Belgium",
    "BG": "Bulgaria",
    "HR": "Croatia",
    "CY": "Cyprus",
    "CZ": "Czechia",
    "DK": "Denmark",
    "EE": "Estonia",
    "FI": "Finland",
    "FR": "France",
    "DE": "Germany",
    "GR": "Greece",
    "HU": "Hungary",
    "IE": "Ireland",
    "IT": "Italy",
    "LV": "Latvia",
    "LT": "Lithuania",
    "LU": "Luxembourg",
    "MT": "Malta",
    "NL": "Netherlands",
    "PL": "Poland",
    "PT": "Portugal",
    "RO": "Romania",
    "SK": "Slovakia",
    "SI": "Slovenia",
    "ES": "Spain",
    "SE": "Sweden",
    "IS": "Iceland",
    "LI": "Liechtenstein",
    "NO": "Norway",
}
_OTHER_NAMES = {
    "czech republic": "CZ",
    "the netherlands": "NL",
    "holland": "NL",
    "el": "GR",  # the EU's own code for Greece
    "eu": "EU",
    "eea": "EU",
    "european union": "EU",
    "european economic area": "EU",
}
_KNOWN = {
    **{code.casefold(): code for code in EEA},
    **{name.casefold(): code for code, name in EEA.items()},
    **_OTHER_NAMES,
}


def in_eea(country: str) -> bool:
    """Whether `country` (a code or an English name) is in the EEA."""
    return country.strip().casefold() in _KNOWN


def is_transfer(country: str) -> bool:
    """Whether data sent to `country` leaves the EEA; blank says nothing."""
    return bool(country.strip()) and not in_eea(country)
