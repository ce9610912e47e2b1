"""redact_pii: known identifiers and pattern PII become stable placeholders,
offline and quietly."""

from __future__ import annotations

import logging
import socket
import warnings
from typing import Any

import pytest
import regex

from connectors import redaction_engines
from connectors.redaction import KnownIdentifiers, redact

JANE = KnownIdentifiers(
    emails=("jane.doe@example.com",),
    phones=("+44 20 7946 0958",),
    customer_ids=("CRM-100001",),
    names=("Jane Doe",),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Hi, this is Jane Doe, write to Jane.Doe@Example.com please.",
            "Hi, this is <PERSON>, write to <EMAIL_ADDRESS> please.",
        ),
        ("jane here, Doe is my surname", "<PERSON> here, <PERSON> is my surname"),
        ("call 020 7946 0958 today", "call <PHONE_NUMBER> today"),
        ("call +44 (0)20 7946-0958 today", "call <PHONE_NUMBER> today"),
        ("call 0044 20 7946 0958 today", "call <PHONE_NUMBER> today"),
        ("account CRM-100001 is mine", "account <CUSTOMER_ID> is mine"),
    ],
)
def test_known_identifiers_become_typed_placeholders(text: str, expected: str) -> None:
    # when
    redacted, count = redact(text, known=JANE)

    # then
    assert redacted == expected
    assert count == expected.count("<")


def test_plain_values_are_sorted_into_kinds() -> None:
    # when
    known = KnownIdentifiers.parse(
        ["jane.doe@example.com", "+44 20 7946 0958", "CRM-100001", "Jane Doe", " "]
    )

    # then
    assert known == JANE
    assert redact("Jane wrote from jane.doe@example.com", known=list(JANE.names))[
        0
    ] == ("<PERSON> wrote from <EMAIL_ADDRESS>")


@pytest.mark.parametrize(
    ("text", "placeholder"),
    [
        ("mail bob.stone@gmail.com later", "<EMAIL_ADDRESS>"),
        ("ring me on +1 415 555 2671", "<PHONE_NUMBER>"),
        ("card 4111 1111 1111 1111 declined", "<CREDIT_CARD>"),
        ("IBAN DE89 3704 0044 0532 0130 00 please", "<IBAN_CODE>"),
        ("logged in from 192.168.10.23", "<IP_ADDRESS>"),
        ("logged in from fe80::1ff:fe23:4567:890a today", "<IP_ADDRESS>"),
        ("logged in from 2001:db8:85a3:0:0:8a2e:370:7334", "<IP_ADDRESS>"),
        ("order ORD-552211 is late", "<ORDER_NUMBER>"),
        ("order #123-4567890 is late", "<ORDER_NUMBER>"),
    ],
)
def test_pattern_pii_of_anyone_is_replaced(text: str, placeholder: str) -> None:
    # when
    redacted, count = redact(text, known=())

    # then
    assert placeholder in redacted
    assert count == 1


def test_the_rest_of_the_conversation_stays_readable() -> None:
    # given
    text = (
        "Hello Jane, sorry about ORD-482913. The parcel left our depot on "
        "3 March and should arrive within five working days."
    )

    # when
    redacted, count = redact(text, known=JANE)

    # then
    assert redacted == (
        "Hello <PERSON>, sorry about <ORDER_NUMBER>. The parcel left our depot on "
        "3 March and should arrive within five working days."
    )
    assert count == 2


def test_text_without_pii_is_returned_unchanged() -> None:
    text = "The parcel still has not arrived; could you check on it?"
    assert redact(text, known=JANE) == (text, 0)
    assert redact("", known=JANE) == ("", 0)


@pytest.mark.parametrize(
    "text",
    [
        "Hi, this is Jane Doe (jane.doe@example.com), +44 20 7946 0958, CRM-100001.",
        "Paid with 4111 1111 1111 1111 from 10.0.0.7 for ORD-123456 and #123-4567890.",
        "<PERSON> said hello to a person called Person",
    ],
)
def test_redacting_twice_changes_nothing_more(text: str) -> None:
    # given
    known = KnownIdentifiers(
        emails=JANE.emails, phones=JANE.phones, names=("Jane Doe", "Person")
    )
    once, _ = redact(text, known=known)

    # when
    twice, count = redact(once, known=known)

    # then
    assert twice == once
    assert count == 0


def test_placeholders_are_not_mistaken_for_a_name() -> None:
    # given: someone whose name is also a placeholder word
    known = KnownIdentifiers(names=("Person",))

    # when
    redacted, count = redact("<PERSON> met Person", known=known)

    # then
    assert redacted == "<PERSON> met <PERSON>"
    assert count == 1


def test_found_in_spots_a_leftover_identifier() -> None:
    assert JANE.found_in("forwarded by JANE.DOE@EXAMPLE.COM")
    assert not JANE.found_in("forwarded by <EMAIL_ADDRESS>")
    assert not JANE.found_in(None)


def test_the_analyzer_is_built_once_per_process() -> None:
    assert redaction_engines.analyzer() is redaction_engines.analyzer()


def test_building_and_using_the_analyzer_never_touches_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: every name lookup and connection attempt is recorded and refused
    attempts: list[Any] = []

    def refuse(sock: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError("network is off in this test")

    def refuse_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(host)
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_lookup)
    monkeypatch.setattr(redaction_engines, "_analyzer", None)

    # when: a fresh analyzer validates e-mail domains against the suffix list
    redacted, _ = redact("write to bob@shop.co.uk or ann@example.com", known=())

    # then
    assert redacted == "write to <EMAIL_ADDRESS> or <EMAIL_ADDRESS>"
    assert attempts == []


def test_building_the_analyzer_logs_and_warns_nothing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    monkeypatch.setattr(redaction_engines, "_analyzer", None)
    caplog.set_level(logging.WARNING)

    # when
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        redaction_engines.analyzer()
        redact("mail bob@shop.co.uk, call +1 415 555 2671", known=())

    # then
    assert [
        r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING
    ] == []
    # (a ResourceWarning here is another test's garbage collected meanwhile)
    assert [
        str(w.message) for w in caught if not issubclass(w.category, ResourceWarning)
    ] == []


@pytest.mark.parametrize(
    ("stored", "written"),
    [
        ("+44 7700 900123", "07700 900123"),
        ("+44 7700 900123", "0044 (0)7700 900-123"),
        ("+447700900123", "(07700) 900.123"),
        ("07700 900123", "+44 7700 900123"),
        ("(404) 555-4383", "+1-404-555-4383"),
        ("(404) 555-4383", "1 (404) 555 4383"),
        ("+1 822 555 8348", "822.555.8348"),
        ("0151 23456789", "+49 151 2345 6789"),
        ("+33 6 12 34 56 78", "06 12 34 56 78"),
        ("+39 312 345 6789", "312/3456789"),
    ],
)
def test_her_phone_is_known_in_every_written_format(stored: str, written: str) -> None:
    # given
    known = KnownIdentifiers(phones=(stored,))

    # when
    redacted, count = redact(f"call {written}, thanks", known=known)

    # then
    assert (redacted, count) == ("call <PHONE_NUMBER>, thanks", 1)


@pytest.mark.parametrize(
    "text",
    [
        "ring +44 7700 900123 today",  # a fictional range: possible, not valid
        "ring (404) 555-4383 today",
        "ring 0151/23456789 today",
        "ring 0033 6 44 75 52 54 today",
    ],
)
def test_anyones_phone_is_found_without_being_known(text: str) -> None:
    assert redact(text, known=())[0] == "ring <PHONE_NUMBER> today"


@pytest.mark.parametrize(
    "text",
    [
        "shipped on 15.03.2024 at 10:45",
        "invoice INV-2024-000123, part P/N 7741-2290-01",
        "version 4.12.3 (build 20240315.2), case 07218051",
        "tracking 9400 1118 9922 3197 4284 90, EAN 0022716023681",
        "total $1,249.99 for 2 x 500 ml",
    ],
)
def test_look_alikes_are_left_alone(text: str) -> None:
    assert redact(text, known=()) == (text, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("send it to 221B Baker Street, London NW1 6XE", "<ADDRESS>, London <ADDRESS>"),
        ("Lindenstraße 12a, 10115 Berlin", "<ADDRESS>, <ADDRESS>"),
        ("4499 Riverside Rd, Austin, TX 78701", "<ADDRESS>, Austin, <ADDRESS>"),
    ],
)
def test_postal_addresses_are_pattern_pii(text: str, expected: str) -> None:
    assert redact(text, known=())[0].endswith(expected)


def test_the_configured_regions_place_a_number_stored_without_country(
    settings: Any,
) -> None:
    # given: her number as a form stored it, without a country code
    text = "her number is +1 404 555 4383"

    # when the regions include the US, it is hers with +1 too
    settings.PII_PHONE_REGIONS = ["US", "GB"]
    assert KnownIdentifiers(phones=("(404) 555-4383",)).found_in(text)

    # and when they do not, +1 is not one of her prefixes
    settings.PII_PHONE_REGIONS = ["GB"]
    assert not KnownIdentifiers(phones=("(404) 555-4383",)).found_in(text)


def test_pattern_hits_find_what_the_analyzer_finds_on_the_corpus() -> None:
    """The detector asks the analyzer's recognizers directly: every span the
    analyzer answers is found, and any other hit lies inside one of the same
    entity (the analyzer drops those, `detect` keeps the longer anyway)."""
    from tests.pii_corpus.score import load

    engine = redaction_engines.analyzer()
    texts = [message["text"] for message in load()]
    texts += ["1.2.3.4 and ::1", "ORD-123456 at 221B Baker Street, NW1 6XE", ""]
    extra = 0
    for text in texts:
        direct = redaction_engines.pattern_hits(text)
        answered = {
            (hit.start, hit.end, hit.entity_type)
            for hit in engine.analyze(
                text, language="en", entities=redaction_engines.PATTERN_ENTITIES
            )
        }
        assert answered <= set(direct), text
        for start, end, entity in set(direct) - answered:
            extra += 1
            assert any(
                e == entity and s <= start and end <= t and (s, t) != (start, end)
                for s, t, e in answered
            ), text
    assert len(texts) > 100
    assert extra < len(texts)  # rare: not a second detector


EDGE_TEXTS = [
    "",
    "no digits at all",
    "ip 1.2.3.4, 999.1.2.3, 10.0.0.1/24, 10.0.0.1/33 and 300.1.1.1",
    "v6 ::, ::1, fe80::1%eth0, ::ffff:192.0.2.128, 2001:db8::8a2e:370:7334/64",
    "64:ff9b::192.0.2.33 and 2001:0db8:85a3:0000:0000:8a2e:0370:7334 at 10:45:00",
    "1:2:3:4:5:6:7:8 and 1:2:3:4:5:6:1.2.3.4, then ::ffff:0:10.0.0.1/96",
    "mail a@b.co, x@localhost, y@z.invalidtld, first.last+tag@sub.example.co.uk.",
    "a@b.co at the start; (mail:c@d.org) x@y@z.com, e@f.com@g.net\tend@h.io",
    "\u00a0nb@sp.com\u2003em@sp.org\nline@two.de é@ü.de ends@here.com",
    "cards 4111 1111 1111 1111, 4111-1111-1111-1112, 0022716023681, "
    "5500 0000 0000 0004 12 and 378282246310005",
    "orders ORD-123456, ORD1234567890123, #123-4567890, 123-1234567-1234567",
    "221B Baker Street, London NW1 6XE; Lindenstraße 12a, 10115 Berlin; "
    "4499 Riverside Rd, Austin, TX 78701-1234",
    "iban DE89 3704 0044 0532 0130 00 and GB82WEST12345698765432 ok",
    "call +44 7700 900123 or (404) 555-4383 or 0151/23456789",
]


def _analyzed_the_presidio_way(text: str) -> list[tuple[int, int, str]]:
    """pattern_hits as it was: each recognizer's own `analyze` (Presidio's
    pattern loop for the pattern recognizers), thresholds, the same sort."""
    engine = redaction_engines.analyzer()
    hits = []
    recognizers: list[Any] = engine.registry.get_recognizers(
        language="en", entities=redaction_engines.PATTERN_ENTITIES
    )
    for recognizer in recognizers:
        own = recognizer.score_thresholds or {}
        for hit in recognizer.analyze(text, redaction_engines.PATTERN_ENTITIES, None):
            threshold = own.get(
                hit.entity_type, own.get("default", engine.default_score_threshold)
            )
            if hit.score > 0 and hit.score >= threshold:
                hits.append(hit)
    hits.sort(key=lambda h: (h.entity_type, h.start, h.start - h.end, -h.score))
    return [(hit.start, hit.end, hit.entity_type) for hit in hits]


def test_our_pattern_pass_finds_exactly_what_presidios_loop_finds() -> None:
    """The pattern recognizers are asked through our own pass (regexes
    compiled once, no per-match objects): on the corpus and on texts made
    to hit every validate/invalidate rule, each recognizer's hits and
    scores, and pattern_hits itself, are exactly what Presidio's loop
    gives."""
    from tests.pii_corpus.score import load

    engine = redaction_engines.analyzer()
    recognizers: list[Any] = [
        recognizer
        for recognizer in engine.registry.get_recognizers(
            language="en", entities=redaction_engines.PATTERN_ENTITIES
        )
        if hasattr(recognizer, "own_hits")
    ]
    texts = [message["text"] for message in load()] + EDGE_TEXTS
    checked = 0
    for text in texts:
        for recognizer in recognizers:
            analyzed = recognizer.analyze(
                text, redaction_engines.PATTERN_ENTITIES, None
            )
            assert sorted(recognizer.own_hits(text)) == sorted(
                (hit.start, hit.end, hit.entity_type, hit.score) for hit in analyzed
            ), (type(recognizer).__name__, text)
            checked += len(analyzed)
        assert redaction_engines.pattern_hits(text) == _analyzed_the_presidio_way(
            text
        ), text
    # every pattern recognizer but the IBAN one (its own loop) and many hits;
    # each pattern prefilter names one of its recognizer's patterns
    assert len(recognizers) == 6
    for recognizer in recognizers:
        names = {pattern.name for pattern in getattr(recognizer, "patterns", [])}
        assert set(getattr(recognizer, "PATTERN_MAYBE", {})) <= names
    assert checked > len(texts)


def test_a_pattern_pass_scores_validation_as_presidio_does() -> None:
    # given: three matches, validated yes, validated no, invalidated
    pattern = regex.compile(r"\w+")

    # when
    hits = redaction_engines.pattern_pass(
        "keep drop void keep",
        entity="X",
        patterns=[("words", 0.4, pattern)],
        validate=lambda word: {"keep": True, "drop": False}.get(word),
        invalidate=lambda word: word == "void",
        timeout=1,
    )

    # then: yes is 1.0, no and invalidated are dropped, order by start
    assert hits == [(0, 4, "X", 1.0), (15, 19, "X", 1.0)]


def test_a_pattern_pass_drops_a_hit_inside_a_stronger_one() -> None:
    hits = redaction_engines.pattern_pass(
        "ORD-123456",
        entity="ORDER_NUMBER",
        patterns=[
            ("whole", 0.8, regex.compile(r"ORD-\d+")),
            ("digits", 0.5, regex.compile(r"\d+")),
            ("digits, stronger", 0.9, regex.compile(r"\d{6}")),
        ],
        validate=lambda _: None,
        invalidate=lambda _: None,
        timeout=1,
    )

    # the weaker digits inside the whole are gone, the stronger ones kept
    assert hits == [(0, 10, "ORDER_NUMBER", 0.8), (4, 10, "ORDER_NUMBER", 0.9)]


def test_words_holding_a_character_are_whitespace_delimited() -> None:
    text = "a@b.co (mail:c@d.org)\tx@y@z.com\u00a0end@"

    words = redaction_engines.words_holding(text, "@")

    assert [text[start:end] for start, end in words] == [
        "a@b.co",
        "(mail:c@d.org)",
        "x@y@z.com",
        "end@",
    ]
    assert redaction_engines.words_holding("no at sign", "@") == []
