"""The offline Presidio analyzer behind the detector, built once per process.

Presidio's analyzer finds pattern-detected PII (e-mail, phone, credit card,
IBAN, IP address, and our order-number recognizer), run with pattern
recognizers only on a blank spaCy pipeline: no model, no download
(``connectors.redaction.detect`` calls it).

Offline: Presidio's e-mail recognizer checks the domain with `tldextract`,
whose default extractor fetches the public-suffix list over the network and
logs when that fails. Ours reads the snapshot bundled with tldextract and has
no URLs to fetch. The analyzer is built once per process (it is slow to build)
and shared; it holds no per-call state.

Context enhancement is switched off: it reads lemmas, which a blank pipeline
does not produce, so it could only cost time; and with nothing reading
tokens, texts are not tokenized either (see BlankSpacyNlpEngine).
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from connectors.pii_phones import looks_like_phone, phone_regions

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine

EMAIL = "EMAIL_ADDRESS"
PHONE = "PHONE_NUMBER"
ORDER_NUMBER = "ORDER_NUMBER"
ADDRESS = "ADDRESS"
# The entities the analyzer looks for: each needs a digit or an "@".
PATTERN_ENTITIES = [
    EMAIL,
    PHONE,
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    ORDER_NUMBER,
    ADDRESS,
]
_STREET_TYPES = (
    "Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Close|"
    "Court|Ct|Crescent|Place|Pl|Terrace|Grove|Gardens|Square|Sq|Parkway|Pkwy|"
    "Circle|Row|Walk|Mews|Highway|Hwy"
)
_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|"
    "MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|"
    "WI|WY|DC"
)
# Postal addresses: a street line (number, capitalised name, street type; or
# the German name-suffix-number) and the postcodes of GB, the US (after a
# state) and Germany (before a town). A town alone is not an address.
ADDRESS_PATTERNS = [
    (
        "street (221B Baker Street)",
        rf"\b\d{{1,5}}[A-Za-z]?\s+(?:[A-Z][a-z]+\s+){{1,3}}(?:{_STREET_TYPES})\b\.?",
    ),
    (
        "street (Lindenstraße 12a)",
        r"\b[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|str\.|weg|gasse|allee|platz|ring|"
        r"damm|ufer)\s+\d{1,4}[a-z]?\b",
    ),
    ("postcode (GB)", r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)\s?\d[A-Z]{2}\b"),
    ("ZIP code (US)", rf"\b(?:{_US_STATES})\s+\d{{5}}(?:-\d{{4}})?\b"),
    # Not the ZIP code after a US state ("TX 53163 Tracking").
    ("Postleitzahl (DE)", r"(?<![\d.,])(?<![A-Z]{2} )\b\d{5}\s+[A-ZÄÖÜ][a-zäöüß]+"),
]

logger = logging.getLogger(__name__)

# E-mail matches whose domain check (a public suffix?) a process remembers.
EMAIL_CHECKS_CACHED = 4096

# What an IP address needs: four dotted numbers, or two colons at most four
# hex digits apart (every IPv6 form, "::" included).
_DOTTED = re.compile(r"\d\.\d{1,3}\.\d{1,3}\.\d")
_COLONS = re.compile(r":[0-9A-Fa-f]{0,4}:")
_DIGITS_BEFORE = re.compile(r"\d[ \-]?\Z")
_DIGITS_AFTER = re.compile(r"[ \-]?\d")


def pattern_hits(text: str) -> list[tuple[int, int, str]]:
    """The spans (start, end, entity) that `analyzer().analyze(text, "en",
    PATTERN_ENTITIES)` finds, without its per-call machinery (picking the
    recognizers, a blank NLP pass, context enhancement that is off, the
    bookkeeping of recognizer ids): the same recognizers are asked, and low
    or zero scores dropped as the analyzer drops them. It also removes a hit
    contained in a same-entity one and sorts; here they come sorted as it
    sorts them, and the one caller (`redaction.detect`) keeps the longer of
    any two overlapping hits anyway.

    Our pattern recognizers are asked through `own_hits`: the regexes each
    compiled once, and per match only the checks Presidio's loop makes
    (its result and explanation objects, a clock read and a log call per
    pattern cost more than most regexes here); the others through their
    `analyze`."""
    hits = [
        hit
        for find, thresholds in _finders()
        for hit in find(text)
        if hit[3] > 0 and hit[3] >= thresholds[hit[2]]
    ]
    hits.sort(key=lambda h: (h[2], h[0], h[0] - h[1], -h[3]))
    return [(start, end, entity) for start, end, entity, _ in hits]


# (start, end, entity, score): one recognizer's hit.
Hit = tuple[int, int, str, float]
Finder = Callable[[str], list[Hit]]


def _finders() -> list[tuple[Finder, dict[str, float]]]:
    global _recognizers
    engine = analyzer()
    if _recognizers is None or _recognizers[0] is not engine:
        chosen: list[tuple[Finder, dict[str, float]]] = []
        for recognizer in engine.registry.get_recognizers(
            language="en", entities=PATTERN_ENTITIES
        ):
            if not recognizer.is_loaded:
                recognizer.load()
                recognizer.is_loaded = True
            own = recognizer.score_thresholds or {}
            fallback = own.get("default", engine.default_score_threshold)
            thresholds = {
                entity: own.get(entity, fallback) for entity in PATTERN_ENTITIES
            }
            chosen.append((_finder(recognizer), thresholds))
        _recognizers = (engine, chosen)
    return _recognizers[1]


def _finder(recognizer: Any) -> Finder:
    own_hits = getattr(recognizer, "own_hits", None)
    if own_hits is not None:
        return cast(Finder, own_hits)

    def analyzed(text: str) -> list[Hit]:
        return [
            (hit.start, hit.end, hit.entity_type, hit.score)
            for hit in recognizer.analyze(text, PATTERN_ENTITIES, None)
        ]

    return analyzed


def pattern_pass(
    text: str,
    *,
    entity: str,
    patterns: list[tuple[str, float, Any]],
    validate: Callable[[str], bool | None],
    invalidate: Callable[[str], bool | None],
    timeout: float,
    regions: list[tuple[int, int]] | None = None,
) -> list[Hit]:
    """What Presidio's PatternRecognizer.analyze finds in `text` with these
    (name, score, compiled regex) patterns and its validate/invalidate
    checks: every non-empty match scored as the pattern says, 1.0 when
    `validate` says yes, 0 when it says no or `invalidate` says yes, zero
    scores dropped, and then (EntityRecognizer.remove_duplicates) repeats
    and a hit inside another with at least its score. Sorted by start,
    longer first.

    `regions` (start, end): search only there, for patterns whose every
    match lies inside one of them and whose matches do not depend on what
    lies beyond (see `words_holding`)."""
    found: set[tuple[int, int, float]] = set()
    spans = [(0, len(text))] if regions is None else regions
    for name, pattern_score, regex in patterns:
        try:
            for match in (
                found_match
                for start_at, end_at in spans
                for found_match in regex.finditer(
                    text, start_at, end_at, timeout=timeout
                )
            ):
                start, end = match.span()
                if start == end:
                    continue
                matched = text[start:end]
                score = pattern_score
                valid = validate(matched)
                if valid is not None:
                    score = 1.0 if valid else 0.0
                if invalidate(matched):
                    score = 0.0
                if score > 0:
                    found.add((start, end, score))
        except TimeoutError:
            logger.warning(
                "Regex pattern '%s' timed out after %s seconds, skipping.",
                name,
                timeout,
                exc_info=True,
            )
    kept: list[Hit] = []
    active: list[tuple[int, int, float]] = []
    for start, end, score in sorted(found, key=lambda h: (h[0], h[0] - h[1], -h[2])):
        active = [a for a in active if a[1] >= start]
        if any(a[0] <= start and end <= a[1] and score <= a[2] for a in active):
            continue
        kept.append((start, end, entity, score))
        active.append((start, end, score))
    return kept


def words_holding(text: str, char: str) -> list[tuple[int, int]]:
    """The (start, end) of each whitespace-delimited word of `text` that
    holds `char`. A match holding `char` and no whitespace lies inside one,
    and a word boundary at either end of it is one in `text` too (the
    character beyond is whitespace, or there is none): searched word by
    word, such a pattern finds exactly what it finds in the whole text."""
    words: list[tuple[int, int]] = []
    found = text.find(char)
    while found != -1:
        start = found
        while start and not text[start - 1].isspace():
            start -= 1
        rest = _WORD_REST.match(text, found)
        assert rest is not None  # \S* matches anywhere
        words.append((start, rest.end()))
        found = text.find(char, rest.end())
    return words


_WORD_REST = re.compile(r"\S*")


# --- the Presidio engines, built once per process -------------------------------

_lock = threading.Lock()
_analyzer: AnalyzerEngine | None = None
# How to ask each of the analyzer's recognizers for PATTERN_ENTITIES, with
# its score threshold per entity (see pattern_hits), taken from it once.
_recognizers: tuple[AnalyzerEngine, list[tuple[Finder, dict[str, float]]]] | None = None


def analyzer() -> AnalyzerEngine:
    """The process-wide analyzer (built on first use)."""
    global _analyzer
    if _analyzer is None:
        with _lock:
            if _analyzer is None:
                _analyzer = _build_analyzer()
    return _analyzer


def _build_analyzer() -> AnalyzerEngine:
    # Local: spaCy and presidio take seconds to import; built on first use.
    import regex
    import spacy
    import tldextract
    from presidio_analyzer import (
        AnalyzerEngine,
        Pattern,
        PatternRecognizer,
        RecognizerRegistry,
        RecognizerResult,
    )
    from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
    from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
    from presidio_analyzer.pattern_recognizer import REGEX_TIMEOUT_SECONDS
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
    )
    from spacy.tokens import Doc

    # The bundled public-suffix snapshot; no URL to fetch, no cache to write.
    offline_tlds = tldextract.TLDExtract(
        cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True
    )

    @functools.lru_cache(maxsize=EMAIL_CHECKS_CACHED)
    def has_public_suffix(matched: str) -> bool:
        # A pure function of the text: cached, it costs a dict lookup for
        # the addresses a conversation repeats (parsed, 70 us each).
        return offline_tlds(matched).fqdn != ""

    class OwnPass(PatternRecognizer):
        """A pattern recognizer that `pattern_hits` asks through `own_hits`
        (`pattern_pass` over its patterns, compiled once with its flags by
        the regex engine Presidio uses), and the analyzer through
        `analyze`. A subclass may skip texts none of its patterns can match
        (`may_match`) or drop hits (`keeps`): both ways ask the same."""

        patterns: list[Pattern]  # as PatternRecognizer sets them (unannotated)
        # A pattern named here is skipped by `own_hits` for a text in which
        # its prefilter finds nothing (it could match nothing there).
        PATTERN_MAYBE: dict[str, re.Pattern[str]] = {}

        def may_match(self, text: str) -> bool:
            return True

        def regions(self, text: str) -> list[tuple[int, int]] | None:
            """Where `own_hits` searches (see `pattern_pass`); None: all."""
            return None

        def keeps(self, text: str, start: int, end: int) -> bool:
            return True

        def analyze(
            self,
            text: str,
            entities: list[str],
            nlp_artifacts: Any = None,
            regex_flags: int | None = None,
        ) -> list[RecognizerResult]:
            if not self.may_match(text):
                return []
            return [
                hit
                for hit in super().analyze(text, entities, nlp_artifacts, regex_flags)
                if self.keeps(text, hit.start, hit.end)
            ]

        def own_hits(self, text: str) -> list[Hit]:
            if not self.may_match(text):
                return []
            hits = pattern_pass(
                text,
                entity=self.supported_entities[0],
                patterns=[
                    pattern
                    for pattern, maybe in self._compiled
                    if maybe is None or maybe.search(text)
                ],
                validate=self.validate_result,
                invalidate=self.invalidate_result,
                timeout=REGEX_TIMEOUT_SECONDS,
                regions=self.regions(text),
            )
            return [hit for hit in hits if self.keeps(text, hit[0], hit[1])]

        @functools.cached_property
        def _compiled(self) -> list[tuple[tuple[str, float, Any], Any]]:
            return [
                (
                    (
                        pattern.name,
                        pattern.score,
                        regex.compile(pattern.regex, flags=self.global_regex_flags),
                    ),
                    self.PATTERN_MAYBE.get(pattern.name),
                )
                for pattern in self.patterns
            ]

    class OfflineEmailRecognizer(OwnPass, EmailRecognizer):
        def may_match(self, text: str) -> bool:
            return "@" in text  # in its one pattern, literally

        def regions(self, text: str) -> list[tuple[int, int]]:
            # A match holds one "@" and no whitespace, and looks no further
            # than a word boundary: searched from every word start of the
            # text, it backtracked through most words (two thirds of all
            # the pattern recognizers' time on a support message).
            return words_holding(text, "@")

        def validate_result(self, pattern_text: str) -> bool:
            return has_public_suffix(pattern_text)

    class CandidatePhoneRecognizer(PhoneRecognizer):
        """Presidio's phone recognizer, asked only about phone-shaped runs.

        The stock one scans the whole text once per region with
        phonenumbers' matcher and keeps only *valid* numbers (no fictional
        555 or 07700 900xxx ranges, no newly opened ones); ours finds runs
        of 7-15 digits first and asks `looks_like_phone` over every
        configured region. A run glued to a word or a hyphenated code
        ("INV-2024-000123") is not a phone."""

        CANDIDATE = re.compile(
            r"(?<![\w+\-/#.])\+?\(?\d(?:[ \-./]{0,2}\(?\d\)?){5,18}(?!\w)"
        )

        def analyze(
            self, text: str, entities: list[str], nlp_artifacts: Any = None
        ) -> list[RecognizerResult]:
            return [
                RecognizerResult(PHONE, start, end, score=score)
                for start, end, _, score in self.own_hits(text)
            ]

        def own_hits(self, text: str) -> list[Hit]:
            regions = tuple(self.supported_regions)
            results: list[Hit] = []
            for candidate in self.CANDIDATE.finditer(text):
                run = candidate.group()
                if not 7 <= sum(map(str.isdigit, run)) <= 15:
                    continue
                start, end = candidate.span()
                if run.endswith(")") and run.count(")") > run.count("("):
                    # "(was 555-4383)": the bracket closes the sentence's.
                    run, end = run[:-1], end - 1
                if looks_like_phone(run, regions):
                    results.append((start, end, PHONE, self.SCORE))
            return results

    class Prefiltered(OwnPass):
        """A pattern recognizer skipped for a text in which `MAYBE` finds
        nothing: none of its patterns can match there."""

        MAYBE: re.Pattern[str]

        def may_match(self, text: str) -> bool:
            return self.MAYBE.search(text) is not None

    class CandidateIpRecognizer(Prefiltered, IpRecognizer):
        """Presidio's IP recognizer, skipped for a text that cannot hold an
        address: every one of its patterns needs four dotted numbers or two
        colons at most four hex digits apart (its IPv6 patterns cost more
        than all the other recognizers together)."""

        MAYBE = re.compile(f"{_DOTTED.pattern}|{_COLONS.pattern}")
        # Only IPv4 needs no colons; the IPv6 ones (and IPv4 within IPv6)
        # cost five times as much, and most texts with an address have a
        # dotted one.
        PATTERN_MAYBE = {
            name: _COLONS
            for name in (
                "IPv4_mapped",
                "IPv4_embedded",
                "IPv6",
                "IPv6_unspecified",
            )
        } | {"IPv4": _DOTTED}

    class NoContextEnhancer(ContextAwareEnhancer):
        def __init__(self) -> None:
            super().__init__(
                context_similarity_factor=0,
                min_score_with_context_similarity=0,
                context_prefix_count=0,
                context_suffix_count=0,
            )

        def enhance_using_context(
            self,
            text: str,
            raw_results: list[RecognizerResult],
            nlp_artifacts: Any,
            recognizers: list[Any],
            context: list[str] | None = None,
        ) -> list[RecognizerResult]:
            return raw_results

    class BlankSpacyNlpEngine(SpacyNlpEngine):
        """spacy.blank("en"): no model to download, no entities, no lemmas.

        Our recognizers read the text, not tokens, and context enhancement
        is off, so no text is tokenized: every new token would also add a
        lexeme to spaCy's vocabulary, which never shrinks, and a worker that
        redacts millions of messages would grow without bound."""

        def load(self) -> None:
            blank = spacy.blank("en")
            self.nlp = {"en": blank}  # type: ignore[assignment]  # presidio leaves nlp unannotated, inferred None
            self._empty = Doc(blank.vocab, words=[])

        def process_text(self, text: str, language: str) -> NlpArtifacts:
            return NlpArtifacts(
                entities=[],
                tokens=self._empty,
                tokens_indices=[],
                lemmas=[],
                nlp_engine=self,
                language=language,
            )

    order_numbers = OwnPass(
        supported_entity=ORDER_NUMBER,
        name="OrderNumberRecognizer",
        patterns=[
            Pattern("order number (ORD-123456)", r"\bORD-?\d{4,12}\b", 0.8),
            Pattern("order number (#123-4567890)", r"(?<!\w)#\d{3}-\d{7}\b", 0.7),
            Pattern(
                "order number (123-1234567-1234567)", r"\b\d{3}-\d{7}-\d{7}\b", 0.7
            ),
        ],
    )

    class CandidateAddressRecognizer(Prefiltered):
        """The address patterns, skipped for a text none of them can match
        (each needs a number next to a capital, or a German street name)."""

        MAYBE = re.compile(
            r"\d\s+[A-ZÄÖÜ]|[A-Z]\s?\d|"
            r"(?:straße|strasse|str\.|weg|gasse|allee|platz|ring|damm|ufer)\s+\d"
        )

    class WholeCardRecognizer(OwnPass, CreditCardRecognizer):
        """Presidio's card recognizer without the Luhn-valid runs inside a
        longer number (a 22-digit tracking number holds a few) and without
        13-digit runs (an EAN barcode passes Luhn one time in ten; no card
        issued today has 13 digits)."""

        def keeps(self, text: str, start: int, end: int) -> bool:
            return (
                sum(map(str.isdigit, text[start:end])) >= 14
                and not _DIGITS_BEFORE.search(text, 0, start)
                and not _DIGITS_AFTER.match(text, end)
            )

    addresses = CandidateAddressRecognizer(
        supported_entity=ADDRESS,
        name="AddressRecognizer",
        patterns=[Pattern(name, regex, 0.6) for name, regex in ADDRESS_PATTERNS],
        # Case matters: "NW1 6XE" is a postcode, "nw1 6xe" rarely is.
        global_regex_flags=re.MULTILINE,
    )
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in (
        OfflineEmailRecognizer(),
        CandidatePhoneRecognizer(supported_regions=phone_regions()),
        WholeCardRecognizer(),
        IbanRecognizer(),
        CandidateIpRecognizer(),
        order_numbers,
        addresses,
    ):
        registry.add_recognizer(recognizer)
    nlp_engine = BlankSpacyNlpEngine(models=[{"lang_code": "en", "model_name": "-"}])
    nlp_engine.load()
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=["en"],
        context_aware_enhancer=NoContextEnhancer(),
    )
