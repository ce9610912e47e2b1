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

import re
import threading
from typing import TYPE_CHECKING, Any

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
    any two overlapping hits anyway. A fifth of the detector's time."""
    hits = [
        hit
        for recognizer, thresholds in _pattern_recognizers()
        for hit in recognizer.analyze(text, PATTERN_ENTITIES, None)
        if hit.score > 0 and hit.score >= thresholds[hit.entity_type]
    ]
    hits.sort(key=lambda h: (h.entity_type, h.start, h.start - h.end, -h.score))
    return [(hit.start, hit.end, hit.entity_type) for hit in hits]


def _pattern_recognizers() -> list[tuple[Any, dict[str, float]]]:
    global _recognizers
    engine = analyzer()
    if _recognizers is None or _recognizers[0] is not engine:
        chosen = []
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
            chosen.append((recognizer, thresholds))
        _recognizers = (engine, chosen)
    return _recognizers[1]


# --- the Presidio engines, built once per process -------------------------------

_lock = threading.Lock()
_analyzer: AnalyzerEngine | None = None
# The analyzer's recognizers for PATTERN_ENTITIES, each with its score
# threshold per entity (see pattern_hits), taken from the analyzer once.
_recognizers: tuple[AnalyzerEngine, list[tuple[Any, dict[str, float]]]] | None = None


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

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return offline_tlds(pattern_text).fqdn != ""

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
            regions = tuple(self.supported_regions)
            results: list[RecognizerResult] = []
            for candidate in self.CANDIDATE.finditer(text):
                run = candidate.group()
                if not 7 <= sum(ch.isdigit() for ch in run) <= 15:
                    continue
                start, end = candidate.span()
                if run.endswith(")") and run.count(")") > run.count("("):
                    # "(was 555-4383)": the bracket closes the sentence's.
                    run, end = run[:-1], end - 1
                if looks_like_phone(run, regions):
                    results.append(
                        RecognizerResult(PHONE, start, end, score=self.SCORE)
                    )
            return results

    class Prefiltered(PatternRecognizer):
        """A pattern recognizer skipped for a text in which `MAYBE` finds
        nothing: none of its patterns can match there."""

        MAYBE: re.Pattern[str]

        def analyze(
            self,
            text: str,
            entities: list[str],
            nlp_artifacts: Any = None,
            regex_flags: int | None = None,
        ) -> list[RecognizerResult]:
            if not self.MAYBE.search(text):
                return []
            return super().analyze(text, entities, nlp_artifacts, regex_flags)

    class CandidateIpRecognizer(Prefiltered, IpRecognizer):
        """Presidio's IP recognizer, skipped for a text that cannot hold an
        address: every one of its patterns needs four dotted numbers or two
        colons at most four hex digits apart (its IPv6 patterns cost more
        than all the other recognizers together)."""

        MAYBE = re.compile(r"\d\.\d{1,3}\.\d{1,3}\.\d|:[0-9A-Fa-f]{0,4}:")

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

    order_numbers = PatternRecognizer(
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

    class WholeCardRecognizer(CreditCardRecognizer):
        """Presidio's card recognizer without the Luhn-valid runs inside a
        longer number (a 22-digit tracking number holds a few) and without
        13-digit runs (an EAN barcode passes Luhn one time in ten; no card
        issued today has 13 digits)."""

        def analyze(
            self,
            text: str,
            entities: list[str],
            nlp_artifacts: Any = None,
            regex_flags: int | None = None,
        ) -> list[RecognizerResult]:
            return [
                hit
                for hit in super().analyze(text, entities, nlp_artifacts, regex_flags)
                if sum(ch.isdigit() for ch in text[hit.start : hit.end]) >= 14
                and not _DIGITS_BEFORE.search(text, 0, hit.start)
                and not _DIGITS_AFTER.match(text, hit.end)
            ]

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
