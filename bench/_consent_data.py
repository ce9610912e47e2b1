"""The consent check bench's data: N subjects, 5 N consent events, by COPY.

Each size has its own database (`privacydesk_bench` for the default 100,000,
`privacydesk_bench_<N>` otherwise), so building the 1,000,000-subject set
keeps the smaller one. A database carries a stamp (its comment) naming the
generator's version and size; a run reuses the data when the stamp matches
and builds it again otherwise. Generation is seeded: the same size gives the
same people, e-mail addresses and choices every time.
"""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid
from datetime import timedelta

from _common import admin, dsn

SEED = 20261128
EVENTS_PER_SUBJECT = 5
GENERATOR_VERSION = 2  # bump when what `generate` writes changes
PURPOSE_WEIGHTS = {
    "ai_processing": 30,
    "ai_training": 25,
    "marketing_email": 20,
    "analytics": 15,
    "call_recording": 10,
}
FIRST_NAMES = (
    "ada grace alan linus margaret ken dennis barbara edsger donald frances "
    "katherine tim radia vint john mary sophie lucas emma noah olivia liam mia "
    "elena marco giulia luca sofia hugo chloe louis lea jan anna lena paul "
    "aisha omar fatima yusuf priya arjun ananya rohan mei wei hana kenji yuki "
    "sven ingrid lars astrid pablo lucia diego carmen ines tomas zofia piotr"
).split()
LAST_NAMES = (
    "lovelace hopper turing torvalds hamilton thompson ritchie liskov dijkstra "
    "knuth allen johnson berners-lee perlman cerf smith jones brown taylor "
    "wilson martin bernard dubois moreau laurent rossi russo ferrari esposito "
    "bianchi muller schmidt schneider fischer weber meyer wagner kowalski nowak "
    "garcia martinez lopez gonzalez perez sanchez patel sharma khan ali chen "
    "wang li zhang tanaka suzuki sato nielsen hansen andersen larsen silva"
).split()
DOMAINS = (
    ["gmail.com"] * 30
    + ["outlook.com"] * 12
    + ["yahoo.com"] * 8
    + ["icloud.com"] * 6
    + ["hotmail.co.uk", "gmx.de", "web.de", "orange.fr", "libero.it", "proton.me"] * 3
    + ["acme-logistics.com", "northwind.example", "contoso.com", "fabrikam.com"]
)
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Safari/18.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
)
CHANNELS = ("chat_widget", "chat_widget", "portal", "api")
IP_POOL = 4096  # distinct calling addresses (kept only as keyed hashes)


def database_name(subjects: int) -> str:
    return (
        "privacydesk_bench" if subjects == 100_000 else f"privacydesk_bench_{subjects}"
    )


def _stamp(subjects: int) -> str:
    return (
        f"consent bench data v{GENERATOR_VERSION}: {subjects} subjects, "
        f"{subjects * EVENTS_PER_SUBJECT} events, seed {SEED}"
    )


def ensure_database(name: str) -> None:
    if not admin("SELECT 1 FROM pg_database WHERE datname = %s", [name]):
        admin(f'CREATE DATABASE "{name}"')


def data_present(name: str, subjects: int) -> bool:
    rows = admin(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
        "WHERE datname = %s",
        [name],
    )
    return bool(rows) and rows[0][0] == _stamp(subjects)


def subject_emails(subjects: int) -> list[str]:
    """Realistic, unique addresses; the same list for the same size."""
    rng = random.Random(SEED)
    seen: set[str] = set()
    emails: list[str] = []
    while len(emails) < subjects:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        style = rng.random()
        if style < 0.45:
            local = f"{first}.{last}"
        elif style < 0.7:
            local = f"{first[0]}{last}"
        elif style < 0.85:
            local = f"{first}{rng.randint(1, 99)}"
        else:
            local = f"{first}.{last}{rng.randint(1950, 2008)}"
        email = f"{local}@{rng.choice(DOMAINS)}"
        if email in seen:
            email = f"{local}{rng.randint(100, 99999)}@{rng.choice(DOMAINS)}"
            if email in seen:
                continue
        seen.add(email)
        emails.append(email)
    return emails


def _evidence_pool(rng: random.Random) -> dict[tuple[str, str], list[str]]:
    """Evidence documents per (channel, purpose), as JSON text: what the
    events carry, without an HMAC and a json.dumps per event."""
    from privacydesk import crypto

    ip_hashes = [
        crypto.keyed_hash(
            f"198.51.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            purpose="consent-evidence-ip",
        )
        for _ in range(IP_POOL)
    ]
    pool: dict[tuple[str, str], list[str]] = {}
    for channel in {*CHANNELS, "gpc"}:
        for slug in PURPOSE_WEIGHTS:
            documents = []
            for ip_hash in ip_hashes[:: len(ip_hashes) // 256]:
                for agent in USER_AGENTS:
                    evidence = {
                        "gpc": channel == "gpc",
                        "user_agent": agent,
                        "ip_hash": ip_hash,
                        "ip_source": "evidence",
                        "ui_element": f"{channel}-{slug}-toggle",
                    }
                    if channel == "chat_widget":
                        evidence["ai_disclosure_version"] = "v3"
                    documents.append(json.dumps(evidence))
            pool[(channel, slug)] = documents
    return pool


def generate(name: str, subjects: int, emails: list[str]) -> None:
    """Write subjects, identifiers and events with COPY; derive the states
    (each subject's last event per purpose) in SQL."""
    import psycopg
    from django.utils import timezone

    from consent.models import PolicyVersion, Purpose
    from consent.seed import seed_purposes
    from privacydesk import crypto

    rng = random.Random(SEED + 2)
    seed_purposes()
    purposes = {p.slug: p for p in Purpose.objects.all()}
    versions = {
        v.purpose_id: v.pk
        for v in PolicyVersion.objects.order_by("purpose_id", "effective_at", "id")
    }
    slugs = list(PURPOSE_WEIGHTS)
    # cumulative weights for rng.choices: the same draw, computed once
    cumulative = list(itertools.accumulate(PURPOSE_WEIGHTS.values()))
    evidence = _evidence_pool(rng)
    now = timezone.now().replace(microsecond=0)
    start = now - timedelta(days=365)

    def uid() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    started = time.monotonic()
    with psycopg.connect(dsn(name)) as connection, connection.cursor() as cur:
        # Every row is consistent by construction: skip the per-row foreign
        # key checks (queued until commit, 7 million of them at 1M subjects).
        cur.execute("SET session_replication_role = replica")
        cur.execute(
            "TRUNCATE consent_consentstate, consent_propagationattempt, "
            "consent_consentpropagation, consent_erasureassessment, "
            "consent_consentevent, dsr_historicalsubjectidentifier, "
            "dsr_subjectidentifier, dsr_datasubject RESTART IDENTITY CASCADE"
        )
        with cur.copy(
            "COPY dsr_datasubject (id, public_id, created_at, updated_at) FROM STDIN"
        ) as copy:
            for subject_id in range(1, subjects + 1):
                copy.write_row((subject_id, uid(), start, start))
        with cur.copy(
            "COPY dsr_subjectidentifier (id, public_id, subject_id, kind, namespace, "
            "value, blind_index, created_at, updated_at) FROM STDIN"
        ) as copy:
            for subject_id, email in enumerate(emails, start=1):
                copy.write_row(
                    (
                        subject_id,
                        uid(),
                        subject_id,
                        "email",
                        "",
                        crypto.encrypt(email),
                        crypto.blind_index("email", email),
                        start,
                        start,
                    )
                )
        print(f"  subjects and identifiers: {time.monotonic() - started:.0f} s")
        event_id = 0
        with cur.copy(
            "COPY consent_consentevent (id, public_id, subject_id, purpose_id, "
            "action, policy_version_id, channel, source_system, occurred_at, "
            "recorded_by, evidence, idempotency_scope, idempotency_key, created_at) "
            "FROM STDIN"
        ) as copy:
            for subject_id in range(1, subjects + 1):
                when = start + timedelta(minutes=rng.randint(0, 60 * 24 * 200))
                for _ in range(EVENTS_PER_SUBJECT):
                    event_id += 1
                    slug = rng.choices(slugs, cum_weights=cumulative)[0]
                    purpose = purposes[slug]
                    grant = rng.random() < 0.65
                    channel = rng.choice(CHANNELS)
                    if not grant and purpose.is_sale_or_sharing and rng.random() < 0.2:
                        channel = "gpc"
                    copy.write_row(
                        (
                            event_id,
                            uid(),
                            subject_id,
                            purpose.pk,
                            "grant" if grant else "withdraw",
                            versions[purpose.pk],
                            channel,
                            "zendesk" if channel == "api" else "",
                            when,
                            "system:bench",
                            rng.choice(evidence[(channel, slug)]),
                            "",
                            None,
                            when,
                        )
                    )
                    when += timedelta(minutes=rng.randint(1, 60 * 24 * 30))
        print(f"  events: {time.monotonic() - started:.0f} s")
        # A subject's events are in time order, so its last event per purpose
        # (highest id) is the state.
        cur.execute(
            "INSERT INTO consent_consentstate (subject_id, purpose_id, granted, "
            "state, policy_version_id, since, last_event_id, created_at, "
            "updated_at) "
            "SELECT DISTINCT ON (subject_id, purpose_id) subject_id, purpose_id, "
            "action = 'grant', CASE WHEN action = 'grant' THEN 'granted' "
            "ELSE 'withdrawn' END, policy_version_id, occurred_at, id, "
            "occurred_at, occurred_at FROM consent_consentevent "
            "ORDER BY subject_id, purpose_id, id DESC"
        )
        states = cur.rowcount
        for table in (
            "dsr_datasubject",
            "dsr_subjectidentifier",
            "consent_consentevent",
        ):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    print(f"  states: {time.monotonic() - started:.0f} s")
    with psycopg.connect(dsn(name), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    admin(f"COMMENT ON DATABASE \"{name}\" IS '{_stamp(subjects)}'")
    print(
        f"generated {subjects:,} subjects, {event_id:,} events and "
        f"{states:,} states in {time.monotonic() - started:.0f} s"
    )
