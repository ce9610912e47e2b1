"""Benchmark: a retention purge of 1,000,000 expired messages, 50,000 held.

What it does, in one run:

1. Databases (PostgreSQL, `BENCH_PG_URL`):
   - `privacydesk_bench_retention`, Privacy Desk's own, dropped, created and
     migrated at every run;
   - `pd_bench_retention_store`, the store: a `messages` table of 2,000,000
     rows (id, ticket_id, customer_email, body, created_at), generated on the
     server with generate_series. Rows are written in time order, as support
     tools append them: ids 1-1,000,000 are past the policy's 365 days, the
     rest are younger. 40,000 customers, each with 25 old and 25 young
     messages. `messages_baseline` is an identical copy (same rows, same
     indexes: the primary key and `created_at`). Autovacuum is off on both
     tables for the run, so neither side pays for the other's cleanup.
2. The legal hold, and why it looks like this: holds name *people* (subjects),
   and a purge finds a held person's rows through the identity columns of the
   connector's map. A messages-only table therefore carries the customer's
   e-mail (`customer_email`), as AI-conversation logs do (the demo's
   `ai_conversations`); following the parent chain (tickets -> customers)
   would measure the subquery, not the purge. 2,000 customers are put under
   a hold through the real service (`legal_hold_place`, subjects found or
   recorded by their e-mail), so 2,000 x 25 = 50,000 expired rows are held.
3. Ours, as a user runs it: a Connector of kind `sql` on the store, a
   RetentionPolicy "Messages: 365 days, delete" (batch 5,000), and
   `purge_run_start` in this process. The held subjects' e-mails are
   excluded inside every statement.
4. The floor: the plain loop on the copy, each statement its own transaction,
   with the same hold exclusion (the held e-mails as one array parameter):
       DELETE FROM messages_baseline WHERE id IN (
         SELECT id FROM messages_baseline WHERE created_at < %s
         AND NOT lower(customer_email) = ANY(%s) LIMIT 5000)
   until it deletes nothing.
5. Prints rows/s of both and their ratio (ours / floor; target >= 0.8), the
   longest write transaction and the longest batch (keys read + write) of
   ours, the longest statement of the floor, the peak RSS of this process
   (which ran our purge; VmHWM and getrusage), and the held rows left in each
   table (target: all 50,000, i.e. zero held rows deleted).

    .venv/bin/python bench/retention.py [--rows 2000000] [--old 1000000]

This is a benchmark, not a test: it prints figures, targets and PASS/MISS,
and exits 0 unless the run itself failed.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
APP_DB = "privacydesk_bench_retention"
STORE_DB = "pd_bench_retention_store"
CUSTOMERS = 40_000
MAX_AGE_DAYS = 365
BATCH = 5_000
TARGET_RATIO = 0.8
TARGET_TRANSACTION_MS = 1_000
TARGET_RSS_MB = 150


def _url(database: str) -> str:
    return f"{PG_SERVER.rstrip('/')}/{database}"


def _recreate(database: str) -> None:
    import psycopg

    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {database}")


def _email(customer: int) -> str:
    return f"customer{customer}@example.com"


def build_store(*, rows: int, old: int, now: datetime) -> datetime:
    """Both tables, identical; returns the cutoff that splits old from young."""
    import psycopg

    cutoff = now - timedelta(days=MAX_AGE_DAYS)
    step = 30  # seconds between two messages
    with psycopg.connect(_url(STORE_DB), autocommit=True) as store:
        store.execute(
            "CREATE TABLE messages (id bigint PRIMARY KEY, ticket_id integer, "
            "customer_email text, body text, created_at timestamptz NOT NULL)"
        )
        # Old rows end an hour before the cutoff and young ones start a day
        # after it, so the run's own cutoff (minutes later than this one)
        # splits them exactly.
        store.execute(
            """
            INSERT INTO messages
            SELECT i,
                   1 + i / 4,
                   'customer' || (i %% %(customers)s) || '@example.com',
                   'Hi, this is about order ORD-' || (100000 + i %% 900000)
                     || ': it has not arrived yet, please call me back. '
                     || md5(i::text),
                   CASE WHEN i <= %(old)s
                     THEN %(cutoff)s
                       - make_interval(secs => 3600 + (%(old)s - i) * %(step)s)
                     ELSE %(cutoff)s
                       + make_interval(secs => 86400 + (i - %(old)s) * %(step)s)
                   END
            FROM generate_series(1, %(rows)s) AS i
            """,
            {
                "customers": CUSTOMERS,
                "old": old,
                "rows": rows,
                "cutoff": cutoff,
                "step": step,
            },
        )
        store.execute("CREATE INDEX messages_created_at ON messages (created_at)")
        store.execute("CREATE TABLE messages_baseline (LIKE messages INCLUDING ALL)")
        store.execute("INSERT INTO messages_baseline SELECT * FROM messages")
        for table in ("messages", "messages_baseline"):
            store.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = off)")
            store.execute(f"VACUUM ANALYZE {table}")
    return cutoff


def setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "privacydesk.settings"
    os.environ["DATABASE_URL"] = _url(APP_DB)
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def place_holds(held_customers: int) -> list[str]:
    from accounts.actors import actor_system
    from retention.services.holds import hold_subject_for_identity, legal_hold_place

    actor = actor_system("bench")
    emails = [_email(customer) for customer in range(held_customers)]
    for email in emails:
        subject = hold_subject_for_identity(actor=actor, identity={"email": email})
        legal_hold_place(
            actor=actor,
            scope="subject",
            subject=subject,
            reason="litigation: disputed orders of these customers",
            legal_basis="GDPR 17(3)(e): establishment of legal claims",
        )
    return emails


def run_ours() -> Any:
    from accounts.actors import actor_system
    from connectors.models import Connector
    from retention.services.policies import retention_policy_create
    from retention.services.runs import purge_run_start

    connector = Connector.objects.create(
        name="support-messages",
        kind="sql",
        config={
            "dsn": _url(STORE_DB),
            "tables": [
                {
                    "table": "messages",
                    "key": "id",
                    "category": "support_message",
                    "identity": {"email": "customer_email"},
                    "erase": "delete",
                }
            ],
        },
    )
    actor = actor_system("bench")
    policy = retention_policy_create(
        actor=actor,
        name="Messages: 365 days, delete",
        connector=connector,
        table="messages",
        age_column="created_at",
        max_age_days=MAX_AGE_DAYS,
        action="delete",
        batch_size=BATCH,
    )
    batch_ms: list[int] = []
    last = [time.monotonic()]

    def on_batch(_: Any) -> None:  # wall time of each batch, bookkeeping included
        now = time.monotonic()
        batch_ms.append(int((now - last[0]) * 1000))
        last[0] = now

    started = time.monotonic()
    run = purge_run_start(
        actor=actor, policy=policy, triggered_by="system:bench", on_batch=on_batch
    )
    return run, time.monotonic() - started, batch_ms


def run_floor(cutoff: datetime, held: list[str]) -> tuple[int, float, float, int]:
    import psycopg

    deleted = statements = 0
    longest = 0.0
    started = time.monotonic()
    with psycopg.connect(_url(STORE_DB), autocommit=True) as store:
        while True:
            t0 = time.monotonic()
            cursor = store.execute(
                "DELETE FROM messages_baseline WHERE id IN ("
                "SELECT id FROM messages_baseline WHERE created_at < %s "
                "AND NOT lower(customer_email) = ANY(%s) LIMIT 5000)",
                [cutoff, held],
            )
            longest = max(longest, time.monotonic() - t0)
            statements += 1
            if cursor.rowcount <= 0:
                break
            deleted += cursor.rowcount
    return deleted, time.monotonic() - started, longest, statements


def checkpoint() -> None:
    """Write out what the previous side left dirty, so it is not billed to
    the next one."""
    import psycopg

    with psycopg.connect(_url(STORE_DB), autocommit=True) as store:
        store.execute("CHECKPOINT")


def _pct(values: list[int], fraction: float) -> int:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * fraction) - 1)] if ordered else 0


def held_left(table: str, cutoff: datetime, held: list[str]) -> int:
    import psycopg

    with psycopg.connect(_url(STORE_DB)) as store:
        return store.execute(
            f"SELECT COUNT(*) FROM {table} WHERE created_at < %s "
            "AND customer_email = ANY(%s)",
            [cutoff, held],
        ).fetchone()[0]


def vm_hwm_kb() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--old", type=int, default=1_000_000)
    parser.add_argument(
        "--order",
        choices=("floor-first", "ours-first"),
        default="floor-first",
        help="which side runs first (the other runs after a CHECKPOINT)",
    )
    parser.add_argument(
        "--held-customers",
        type=int,
        default=2_000,
        help="customers under a hold (25 old messages each by default)",
    )
    args = parser.parse_args()

    now = datetime.now(UTC)
    print(f"building {args.rows:,} messages ({args.old:,} past {MAX_AGE_DAYS} days)")
    t0 = time.monotonic()
    _recreate(STORE_DB)
    cutoff = build_store(rows=args.rows, old=args.old, now=now)
    print(f"  store built in {time.monotonic() - t0:.0f} s (and its copy)")
    _recreate(APP_DB)
    setup_django()
    t0 = time.monotonic()
    held = place_holds(args.held_customers)
    expected_held = held_left("messages", cutoff, held)
    print(
        f"  {len(held):,} customers under a legal hold "
        f"({expected_held:,} expired rows held), in {time.monotonic() - t0:.0f} s"
    )

    sides = ["floor", "ours"]
    if args.order == "ours-first":
        sides.reverse()
    for side in sides:
        checkpoint()
        if side == "floor":
            print("floor: plain batched DELETE ... WHERE id IN (SELECT ... LIMIT 5000)")
            floor_rows, floor_s, floor_longest, statements = run_floor(cutoff, held)
            print(f"  {floor_rows:,} rows in {floor_s:.1f} s, {statements} statements")
            continue
        print("ours: purge_run_start on the policy")
        run, ours_s, batch_ms = run_ours()
        rss_kb = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        hwm_kb = vm_hwm_kb()
        ours_rows = run.tables["messages"]["changed"]
        print(
            f"  run {run.public_id} {run.status}: {ours_rows:,} rows in "
            f"{ours_s:.1f} s, {run.batches} batches, "
            f"{run.tables['messages']['skipped_held']:,} skipped (held); "
            f"batches p50 {_pct(batch_ms, 0.5)} ms, p95 {_pct(batch_ms, 0.95)} ms"
        )

    ours_rate = ours_rows / ours_s
    floor_rate = floor_rows / floor_s
    ratio = ours_rate / floor_rate
    held_ours = held_left("messages", cutoff, held)
    held_floor = held_left("messages_baseline", cutoff, held)
    rss_mb = max(rss_kb, hwm_kb or 0) / 1024

    print()
    print(f"ours                    {ours_rate:>12,.0f} rows/s")
    print(f"plain DELETE loop       {floor_rate:>12,.0f} rows/s")
    print(
        f"ratio ours/plain        {ratio:>12.2f}     target >= {TARGET_RATIO}  "
        f"{verdict(ratio >= TARGET_RATIO)}"
    )
    print(
        f"longest transaction     {run.longest_transaction_ms:>9,} ms     "
        f"target < {TARGET_TRANSACTION_MS} ms  "
        f"{verdict(run.longest_transaction_ms < TARGET_TRANSACTION_MS)}"
    )
    print(
        f"  longest batch (read keys + write): {run.longest_batch_ms:,} ms; "
        f"plain loop's longest statement: {floor_longest * 1000:,.0f} ms"
    )
    print(
        f"peak RSS (this process) {rss_mb:>12.1f} MB     target < {TARGET_RSS_MB} MB  "
        f"{verdict(rss_mb < TARGET_RSS_MB)}"
    )
    print(
        f"held rows deleted       {expected_held - held_ours:>12,}        "
        f"target 0  {verdict(held_ours == expected_held)} "
        f"(plain loop: {expected_held - held_floor:,})"
    )
    print(
        f"rows deleted: ours {ours_rows:,}, plain {floor_rows:,} "
        f"(expected {args.old - expected_held:,})"
    )
    return 0 if run.status == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
