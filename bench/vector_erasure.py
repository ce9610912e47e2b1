"""Benchmark: erasure of 50 subjects in a Qdrant collection (issue 15).

What it does, in one run, in one process:

1. Two identical collections, `ours` and `direct`, in qdrant-client's local
   mode **in memory** (`QdrantClient(":memory:")`: local mode on disk writes
   each point in its own SQLite transaction, tens of milliseconds a point
   here, so a million would take hours to load). `--points` seeded points
   (default 50,000), 8-dimension vectors, the metadata of an AI
   assistant's memory: 20 points per customer, 4 conversations of 5
   chunks, the customer's e-mail on each conversation's first chunk only
   (the others are found through their conversation id).
2. 50 customers drawn with a seed. For each, one after another:
   - ours: the qdrant kind's `run` as the executor calls it for one store
     (erase, then verify_erasure with the erasure's receipt): the match by
     e-mail, the conversation ids its points hold, count, delete by filter
     with wait=true, count again, and the verification's count;
   - direct: qdrant-client's delete-by-filter called once with the filter
     that removes the same points (e-mail OR the customer's conversation
     ids, known here from the generator), wait=true.
3. Both collections are then checked to hold the same points.

Figures: total time of each side, the ratio, the engine calls per subject
on our side, and each call's cost at this size (local mode scans every
point in Python for each filtered call: its cost grows with the collection,
so the ratio is about how many calls each side makes). `--points 1000000`
runs at a million points (about 2 GB of memory; with a million points a
filtered call takes tens of seconds in local mode, so 50 erasures take
hours: the run prints the load time and one call's cost first).

    .venv/bin/python bench/vector_erasure.py [--points 50000] [--subjects 50]

This is a benchmark, not a test: it prints figures and exits 0 unless the
run itself failed.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SEED = 2026
DIMENSIONS = 8
PER_CUSTOMER, CHUNKS = 20, 5  # 4 conversations of 5 chunks
BATCH = 10_000


def _email(customer: int) -> str:
    return f"customer.{customer}@example.com"


def _conversations(customer: int) -> list[str]:
    return [f"conv-{customer}-{n}" for n in range(PER_CUSTOMER // CHUNKS)]


def load(client: Any, collection: str, points: int) -> float:
    """`points` seeded points in `collection`; the seconds it took."""
    import numpy as np
    from qdrant_client import models

    started = time.perf_counter()
    client.create_collection(
        collection,
        vectors_config=models.VectorParams(
            size=DIMENSIONS, distance=models.Distance.COSINE
        ),
    )
    rng = np.random.default_rng(SEED)
    for start in range(0, points, BATCH):
        ids = list(range(start, min(points, start + BATCH)))
        payloads = []
        for point in ids:
            customer, index = divmod(point, PER_CUSTOMER)
            chunk = index % CHUNKS
            payload: dict[str, Any] = {
                "document": f"chunk {chunk} of a support chat about ORD-{point:07d}",
                "conversation_id": _conversations(customer)[index // CHUNKS],
                "source": "assistant",
            }
            if chunk == 0:
                payload["customer_email"] = _email(customer)
            payloads.append(payload)
        vectors = rng.random((len(ids), DIMENSIONS), dtype=np.float32)
        client.upsert(
            collection,
            points=models.Batch(ids=ids, vectors=vectors.tolist(), payloads=payloads),
            wait=True,
        )
    return time.perf_counter() - started


class Counted:
    """The kind's engine on the shared client, counting and timing calls."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.calls: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.engine, name)
        if name not in ("find", "delete", "count", "dimensions", "collections"):
            return method

        def timed(*args: Any) -> Any:
            started = time.perf_counter()
            try:
                result = method(*args)
                if name == "find":
                    result = list(result)
                return result
            finally:
                self.calls[name] = self.calls.get(name, 0) + 1
                self.seconds[name] = self.seconds.get(name, 0.0) + (
                    time.perf_counter() - started
                )

        return timed

    def close(self) -> None:  # the client is the bench's: kept open
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=50_000)
    parser.add_argument("--subjects", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacydesk.settings")
    import django

    django.setup()
    from qdrant_client import QdrantClient, models

    from connectors.base import Identity, Job
    from connectors.choices import Action
    from connectors.kinds.vectors.qdrant import QdrantConnector, QdrantEngine

    client = QdrantClient(":memory:")
    print(f"qdrant-client local mode, in memory; {args.points:,} points x 2")
    loaded = [load(client, name, args.points) for name in ("ours", "direct")]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load: {loaded[0]:.1f} s + {loaded[1]:.1f} s; peak RSS {rss:.0f} MB")

    engine = Counted(QdrantEngine(client, document_key="document", page_size=256))

    class InProcess(QdrantConnector):
        def open_engine(self) -> Any:
            return engine

    config = QdrantConnector.validate_config(
        {
            "path": "/in-process",  # never opened: open_engine gives the client
            "collections": ["ours"],
            "keys": {"email": "customer_email", "conversation_id": "conversation_id"},
        }
    )
    kind = InProcess(name="memory", config=config, secrets={})
    customers = args.points // PER_CUSTOMER
    subjects = random.Random(SEED).sample(range(customers), args.subjects)

    ours = direct = erase_only = ours_cpu = direct_cpu = 0.0
    erased = 0
    for customer in subjects:
        identity = Identity(emails=(_email(customer),))
        job = Job(
            task_id="b", request_reference="B", action=Action.ERASE, identity=identity
        )
        cpu = time.process_time()
        started = time.perf_counter()
        receipt = kind.run(job, sink=None)  # type: ignore[arg-type]
        middle = time.perf_counter()
        check = kind.run(
            Job(
                task_id="b",
                request_reference="B",
                action=Action.VERIFY_ERASURE,
                identity=identity,
                receipt=receipt,  # type: ignore[arg-type]
            ),
            sink=None,  # type: ignore[arg-type]
        )
        ended = time.perf_counter()
        assert check.found == 0, check
        erased += receipt.changed
        ours += ended - started
        erase_only += middle - started
        ours_cpu += time.process_time() - cpu

        selector = models.Filter(
            should=[
                models.FieldCondition(
                    key="customer_email", match=models.MatchAny(any=[_email(customer)])
                ),
                models.FieldCondition(
                    key="conversation_id",
                    match=models.MatchAny(any=_conversations(customer)),
                ),
            ]
        )
        cpu = time.process_time()
        started = time.perf_counter()
        client.delete("direct", models.FilterSelector(filter=selector), wait=True)
        direct += time.perf_counter() - started
        direct_cpu += time.process_time() - cpu

    left = [client.count(name, exact=True).count for name in ("ours", "direct")]
    assert left[0] == left[1] == args.points - erased, left
    assert erased == args.subjects * PER_CUSTOMER, erased
    per = {name: count / args.subjects for name, count in engine.calls.items()}
    cost = {name: engine.seconds[name] / engine.calls[name] for name in engine.calls}
    print(
        f"{args.subjects} subjects, {erased:,} points erased; both collections "
        f"left with {left[0]:,} points"
    )
    print(f"ours (erase + verify, the kind's run): {ours:.2f} s")
    print(f"ours (erase only):                      {erase_only:.2f} s")
    print(f"direct delete-by-filter:                {direct:.2f} s")
    print(
        f"ratio ours/direct: {ours / direct:.2f}x wall "
        f"(erase only {erase_only / direct:.2f}x); "
        f"CPU {ours_cpu:.2f} s / {direct_cpu:.2f} s = {ours_cpu / direct_cpu:.2f}x"
    )
    print(
        "engine calls per subject (ours): "
        + ", ".join(f"{name} {count:g}" for name, count in sorted(per.items()))
    )
    print(
        "seconds per call at this size: "
        + ", ".join(f"{name} {seconds:.3f}" for name, seconds in sorted(cost.items()))
        + f"; direct delete {direct / args.subjects:.3f}"
    )
    print(
        f"SUMMARY points={args.points} subjects={args.subjects} ours={ours:.2f}s "
        f"direct={direct:.2f}s ratio={ours / direct:.2f}x "
        f"cpu_ratio={ours_cpu / direct_cpu:.2f}x"
    )


if __name__ == "__main__":
    main()
