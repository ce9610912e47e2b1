"""redact_pii: rewrite free text so it no longer points at the data subject.

Two sources of spans, one rewrite:

- the subject's *known* identifiers (e-mails, phones, customer ids, name
  parts), matched by one compiled regex per subject, tolerant of how people
  type them (case, phone separators, a country code or trunk zero);
- pattern-detected PII from Presidio's analyzer (e-mail, phone, credit card,
  IBAN, IP address, and our order-number recognizer), run with pattern
  recognizers only on a blank spaCy pipeline: no model, no download.

Presidio's anonymizer resolves overlaps and writes stable placeholders
(`<EMAIL_ADDRESS>`, `<PHONE_NUMBER>`, `<PERSON>`, `<CUSTOMER_ID>`, ...), so the
rest of a transcript stays readable and redacting twice changes nothing.

Offline: Presidio's e-mail recognizer checks the domain with `tldextract`,
whose default extractor fetches the public-suffix list over the network and
logs when that fails. Ours reads the snapshot bundled with tldextract and has
no URLs to fetch. The analyzer is built once per process (it is slow to build)
and shared; it holds no per-call state.

Cost: texts with no digit and no "@" cannot hold any pattern entity we look
for, so they skip the analyzer and only meet the known-identifier regex.
Context enhancement is switched off: it reads lemmas, which a blank pipeline
does not produce, so it could only cost time; and with nothing reading
tokens, texts are not tokenized either (see BlankSpacyNlpEngine).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine
    from presidio_anonymizer import AnonymizerEngine

EMAIL = "EMAIL_ADDRESS"
PHONE = "PHONE_NUMBER"
PERSON = "PERSON"
CUSTOMER_ID = "CUSTOMER_ID"
ORDER_NUMBER = "ORDER_NUMBER"
# The entities the analyzer looks for: each needs a digit or an "@".
PATTERN_ENTITIES = [
    EMAIL,
    PHONE,
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    ORDER_NUMBER,
]
PLACEHOLDERS = frozenset(
    f"<{entity}>" for entity in [*PATTERN_ENTITIES, PERSON, CUSTOMER_ID]
)
_TRIGGER = re.compile(r"[@\d]")
_NAME_SPLIT = re.compile(r"[\s,;/]+")
_PHONE_SHAPE = re.compile(r"\+?[\d\s().\-/]+")


# --- the subject's known identifiers -------------------------------------------


@dataclass(frozen=True)
class KnownIdentifiers:
    """What we know identifies the subject; compiled once, used per text."""

    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    customer_ids: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @classmethod
    def parse(cls, values: Iterable[str]) -> KnownIdentifiers:
        """Sort untyped values: "@" → e-mail, phone-shaped with 7+ digits →
        phone, anything else with a digit → customer id, the rest → a name."""
        emails: list[str] = []
        phones: list[str] = []
        ids: list[str] = []
        names: list[str] = []
        for raw in values:
            value = (raw or "").strip()
            if not value:
                continue
            digits = sum(ch.isdigit() for ch in value)
            if "@" in value:
                emails.append(value)
            elif digits >= 7 and _PHONE_SHAPE.fullmatch(value):
                phones.append(value)
            elif digits:
                ids.append(value)
            else:
                names.append(value)
        return cls(tuple(emails), tuple(phones), tuple(ids), tuple(names))

    def __bool__(self) -> bool:
        return bool(self.emails or self.phones or self.customer_ids or self.names)

    def including(self, other: KnownIdentifiers) -> KnownIdentifiers:
        """These identifiers and `other`'s; `self` itself when `other` adds
        none (so its compiled pattern serves again)."""
        kinds = ("emails", "phones", "customer_ids", "names")
        if all(set(getattr(other, k)) <= set(getattr(self, k)) for k in kinds):
            return self
        return KnownIdentifiers(
            **{
                k: tuple(sorted(set(getattr(self, k)) | set(getattr(other, k))))
                for k in kinds
            }
        )

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        groups = [
            (EMAIL, {_email_regex(v) for v in self.emails}),
            (PHONE, {r for r in map(_phone_regex, self.phones) if r}),
            (CUSTOMER_ID, {_word_regex(v) for v in self.customer_ids}),
            (PERSON, {_word_regex(p) for p in _name_parts(self.names)}),
        ]
        # Longest first, so "Jane Doe" wins over "Jane" at the same position.
        alternatives = [
            f"(?P<{entity}>{'|'.join(sorted(regexes, key=lambda r: (-len(r), r)))})"
            for entity, regexes in groups
            if regexes
        ]
        if not alternatives:
            return None
        return re.compile("|".join(alternatives), re.IGNORECASE)

    def spans(self, text: str) -> Iterator[tuple[int, int, str]]:
        """(start, end, entity) of every known identifier in `text`."""
        if self.pattern is None:
            return
        for match in self.pattern.finditer(text):
            start, end = match.span()
            # A name part like "Person" must not eat our own placeholder.
            if text[start - 1 : end + 1].upper() in PLACEHOLDERS:
                continue
            yield start, end, match.lastgroup or PERSON

    def found_in(self, text: str | None) -> bool:
        """Whether `text` still holds any known identifier (for verification)."""
        if not text:
            return False
        return next(self.spans(text), None) is not None


def _email_regex(value: str) -> str:
    return rf"(?<![\w.+\-]){re.escape(value)}(?![\w\-]|\.\w)"


def _word_regex(value: str) -> str:
    return rf"(?<!\w){re.escape(value)}(?!\w)"


def _name_parts(names: Iterable[str]) -> set[str]:
    parts: set[str] = set()
    for name in names:
        words = [w.strip(".'\"()") for w in _NAME_SPLIT.split(name.strip())]
        words = [w for w in words if len(w) >= 2]
        if len(words) > 1:
            parts.add(" ".join(words))
        for word in words:
            parts.add(word)
            parts.update(p for p in word.split("-") if len(p) >= 2)
    return parts


_SEP = r"[\s.\-()/]{0,3}"


def _phone_regex(value: str) -> str | None:
    """A phone as people write it: any separators, with or without the
    country code, with a trunk zero, or in brackets."""
    import phonenumbers

    digits = re.sub(r"\D", "", value)
    if len(digits) < 6:
        return None
    stripped = value.strip()
    country = ""
    national = digits.lstrip("0") or digits
    if stripped.startswith(("+", "00")):
        try:
            parsed = phonenumbers.parse("+" + digits.removeprefix("00"), None)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is not None and parsed.country_code:
            country = str(parsed.country_code)
            national = phonenumbers.national_significant_number(parsed)
    prefix = r"\(?0\)?[\s.\-]*"
    if country:
        prefix = rf"(?:(?:\+|00)\s*\(?{country}\)?[\s.\-]*(?:\(0\)[\s.\-]*)?|{prefix})"
    body = _SEP.join(re.escape(d) for d in national)
    return rf"(?<![\w+]){prefix}?\(?{body}(?!\w)"


@lru_cache(maxsize=256)
def _known_from_values(values: tuple[str, ...]) -> KnownIdentifiers:
    return KnownIdentifiers.parse(values)


# --- the Presidio engines, built once per process -------------------------------

_lock = threading.Lock()
_engines: tuple[AnalyzerEngine, AnonymizerEngine] | None = None


def engines() -> tuple[AnalyzerEngine, AnonymizerEngine]:
    """The process-wide analyzer and anonymizer (built on first use)."""
    global _engines
    if _engines is None:
        with _lock:
            if _engines is None:
                _engines = _build_engines()
    return _engines


def _build_engines() -> tuple[AnalyzerEngine, AnonymizerEngine]:
    import spacy
    import tldextract
    from phonenumbers import PhoneNumberMatcher
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
    from presidio_anonymizer import AnonymizerEngine
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

        The stock one scans the whole text once per region; most of a
        message cannot be a phone, so we find runs of 7-15 digits first and
        stop at the first region that accepts a run."""

        CANDIDATE = re.compile(
            r"(?<![\w+])\+?\(?\d(?:[ \-./]{0,2}\(?\d\)?){5,18}(?!\w)"
        )

        def analyze(
            self, text: str, entities: list[str], nlp_artifacts: Any = None
        ) -> list[RecognizerResult]:
            # Optional in presidio's signature; ours keeps its default (1, VALID).
            assert self.leniency is not None
            results: list[RecognizerResult] = []
            for candidate in self.CANDIDATE.finditer(text):
                run = candidate.group()
                if not 7 <= sum(ch.isdigit() for ch in run) <= 15:
                    continue
                regions = self.supported_regions[:1] if "+" in run else None
                for region in regions or self.supported_regions:
                    found = list(
                        PhoneNumberMatcher(run, region, leniency=self.leniency)
                    )
                    for match in found:
                        results.append(
                            RecognizerResult(
                                entity_type=PHONE,
                                start=candidate.start() + match.start,
                                end=candidate.start() + match.end,
                                score=self.SCORE,
                            )
                        )
                    if found:
                        break
            return results

    class CandidateIpRecognizer(IpRecognizer):
        """Presidio's IP recognizer, skipped for a text that cannot hold an
        address: every one of its patterns needs four dotted numbers or two
        colons at most four hex digits apart (its IPv6 patterns cost more
        than all the other recognizers together)."""

        MAYBE = re.compile(r"\d\.\d{1,3}\.\d{1,3}\.\d|:[0-9A-Fa-f]{0,4}:")

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
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in (
        OfflineEmailRecognizer(),
        CandidatePhoneRecognizer(),
        CreditCardRecognizer(),
        IbanRecognizer(),
        CandidateIpRecognizer(),
        order_numbers,
    ):
        registry.add_recognizer(recognizer)
    nlp_engine = BlankSpacyNlpEngine(models=[{"lang_code": "en", "model_name": "-"}])
    nlp_engine.load()
    analyzer = AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=["en"],
        context_aware_enhancer=NoContextEnhancer(),
    )
    return analyzer, AnonymizerEngine()


# --- the one entry point -------------------------------------------------------


def redact(
    text: str, *, known: KnownIdentifiers | Iterable[str] = ()
) -> tuple[str, int]:
    """Return `text` with the subject's identifiers and pattern PII replaced by
    placeholders, and the number of replacements (0 when nothing changed).

    `known` is a KnownIdentifiers (compile it once for many texts) or plain
    values, sorted into kinds by `KnownIdentifiers.parse`."""
    if not text:
        return text, 0
    from presidio_anonymizer.entities import ConflictResolutionStrategy
    from presidio_anonymizer.entities import RecognizerResult as Span

    identifiers = (
        known
        if isinstance(known, KnownIdentifiers)
        else _known_from_values(tuple(known))
    )
    spans: list[Any] = [
        Span(entity_type=entity, start=start, end=end, score=1.0)
        for start, end, entity in identifiers.spans(text)
    ]
    analyzer, anonymizer = engines()
    if _TRIGGER.search(text):
        spans.extend(analyzer.analyze(text, language="en", entities=PATTERN_ENTITIES))
    if not spans:
        return text, 0
    result = anonymizer.anonymize(
        text,
        spans,
        conflict_resolution=ConflictResolutionStrategy.REMOVE_INTERSECTIONS,
    )
    if result.text == text:
        return text, 0
    return result.text, len(result.items)
