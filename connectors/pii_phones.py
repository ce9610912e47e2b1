"""Phone numbers in free text, as people write them.

Two questions, one module:

- `known_phone_regex`: where in a text is *this* phone (one of the
  subject's)? Any separators, with or without the country code (`+` or
  `00`), a trunk zero or "(0)", brackets; a number stored without a country
  code ("(404) 555-4383", "07700 900123") is placed in the configured
  regions first, so "+1 404 555 4383" and "+44 7700 900123" match it too.
- `looks_like_phone`: is this run of digits *someone's* phone? With a
  country code: a possible number of that country. Without one: a number
  written the way a configured region writes national numbers (a trunk
  zero, the North American 3-3-4 shape, or a valid number of a region
  without a trunk prefix). Possible, not only valid: fictional ranges
  (555, Ofcom's 07700 900xxx) and newly opened ranges are phones too.

The regions are the setting PII_PHONE_REGIONS.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

DEFAULT_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "IE", "CA", "AU")
_NANP = frozenset({"US", "CA"})
_NANP_SHAPE = re.compile(
    r"(?:\+?1[\s.\-]?)?(?:\([2-9]\d\d\)\s?|[2-9]\d\d[\s.\-]?)[2-9]\d\d[\s.\-]?\d{4}"
)
_DATE = re.compile(r"\d{1,4}([./\-])\d{1,2}\1\d{2,4}")
_IP = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_SEP = r"[\s.\-()/]{0,3}"
_GROUPS = re.compile(r"\d+")


def phone_regions() -> tuple[str, ...]:
    """The configured regions (settings.PII_PHONE_REGIONS), in order."""
    from django.conf import settings

    if not settings.configured:
        return DEFAULT_REGIONS
    return tuple(getattr(settings, "PII_PHONE_REGIONS", DEFAULT_REGIONS))


def _trunk(region: str) -> str:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return (metadata.national_prefix or "") if metadata else ""


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


def _international(run: str) -> str | None:
    """`run` with its international prefix as "+", or None without one."""
    if run.startswith("+"):
        return run
    if run.startswith("00"):
        return "+" + run[2:].lstrip()
    return None


# --- the subject's own number -----------------------------------------------------


@lru_cache(maxsize=4096)
def known_phone_regex(value: str, regions: tuple[str, ...] = ()) -> str | None:
    """A regex for `value` (one of the subject's phones) in any written form."""
    digits = re.sub(r"\D", "", value.replace("(0)", ""))
    if len(digits) < 6:
        return None
    places: set[tuple[str, str, str]] = set()  # (country code, national, trunk)
    international = _international(value.strip())
    if international is not None:
        parsed = _parse(international, None)
        if parsed is not None and parsed.country_code:
            # An unassigned range ("+1 822 ...") has no region: its
            # country's main one says how it is dialled at home.
            region = phonenumbers.region_code_for_number(
                parsed
            ) or phonenumbers.region_code_for_country_code(parsed.country_code)
            places.add(
                (
                    str(parsed.country_code),
                    phonenumbers.national_significant_number(parsed),
                    _trunk(region),
                )
            )
    else:
        # Written without a country code: it may be any region's where it
        # is a possible number ("06000 86241" is Dutch, French or German).
        for region in regions or phone_regions():
            parsed = _parse(value, region)
            if parsed is None or not phonenumbers.is_possible_number(parsed):
                continue
            places.add(
                (
                    str(parsed.country_code),
                    phonenumbers.national_significant_number(parsed),
                    _trunk(region),
                )
            )
    if not places:
        national = digits.lstrip("0") or digits
        body = _SEP.join(re.escape(d) for d in national)
        return rf"(?<![\w+])(?<!\d[ .\-])(?:\(?0\)?[\s.\-]*)?\(?{body}(?![\w])"
    alternatives = []
    for national in sorted({n for _, n, _ in places}):
        codes = sorted({c for c, n, _ in places if n == national})
        trunks = sorted({t for _, n, t in places if n == national and t})
        country = "|".join(codes)
        prefixes = [rf"(?:\+|00)\s*\(?(?:{country})\)?[\s.\-]*(?:\(0\)[\s.\-]*)?"]
        prefixes += [rf"\(?{re.escape(t)}\)?[\s.\-]*" for t in trunks]
        body = _SEP.join(re.escape(d) for d in national)
        alternatives.append(rf"(?:{'|'.join(prefixes)})?\(?{body}")
    return rf"(?<![\w+])(?<!\d[ .\-])(?:{'|'.join(alternatives)})(?!\w)"


# --- anyone's number ------------------------------------------------------------------


# A conversation repeats its numbers turn after turn, and parsing one is most
# of the phone check's cost; the answer depends on the run and regions only.
@lru_cache(maxsize=4096)
def looks_like_phone(run: str, regions: tuple[str, ...]) -> bool:
    """Whether a run of 7-15 digits and separators is a phone number."""
    run = run.strip()
    if _DATE.fullmatch(run) or _IP.fullmatch(run):
        return False
    international = _international(run)
    groups = _GROUPS.findall(run)
    if _part_number(groups[1:] if international is not None else groups):
        return False
    if international is not None:
        parsed = _parse(international, None)
        if parsed is None or not phonenumbers.is_possible_number(parsed):
            return False
        # "0022716023681" is more likely an article number than a call to
        # Niger: a bare 00 run must be a valid number, not just a possible one.
        return not (run.startswith("00") and run.isdigit()) or (
            phonenumbers.is_valid_number(parsed)
        )
    digit_count = sum(ch.isdigit() for ch in run)
    contiguous = run.isdigit()
    for region in regions:
        if region in _NANP:
            if digit_count >= 10 and _NANP_SHAPE.fullmatch(run):
                return True
            continue
        trunk = _trunk(region)
        if trunk:
            if not run.lstrip("(").startswith(trunk):
                continue
            if digit_count < 9 or (contiguous and digit_count > 12):
                continue
            parsed = _parse(run, region)
            if parsed is not None and phonenumbers.is_possible_number(parsed):
                return True
            continue
        if contiguous and digit_count < 9:
            continue  # "07218051": a reference more often than a landline
        parsed = _parse(run, region)
        if parsed is not None and phonenumbers.is_valid_number(parsed):
            return True
    return False


def _part_number(groups: list[str]) -> bool:
    """A part number's shape ("7741-2290-01", "0086-4782-40"): a last group
    of one or two digits after a group of four or more. Phones are rarely
    written so ("06 12 34 56 78" has no long group)."""
    return len(groups) >= 2 and len(groups[-1]) <= 2 and max(map(len, groups)) >= 4
