"""Benchmark: erasure of 50 subjects in a Qdrant collection (issue 15).

What it does, in one run, in one process:

1. Two identical collections, `ours` and `direct`, in qdrant-client's local
   mode **in memory** (`QdrantClient(":memory:")`: local mode on disk writes
   each point in its own SQLite transaction, tens of milliseconds a point
   here, so a million would take hours to load). `--points` seeded points
   (default 20,000, for `make bench`), 8-dimension vectors, the metadata of an AI
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

`--engine edge` runs the erasures on Qdrant Edge instead, Qdrant's own
engine in process, a million points in about 90 s (bench/_vector_edge.py).

    .venv/bin/python bench/vector_erasure.py [--points 20000] [--subjects 50]
    .venv/bin/python bench/vector_erasure.py --engine edge --points 1000000

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

from _vector_points import (
    BATCH,
    DIMENSIONS,
    PER_CUSTOMER,
    SEED,
    Counted,
    conversations,
    email,
    payload,
)

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


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
        payloads = [payload(point) for point in ids]
        vectors = rng.random((len(ids), DIMENSIONS), dtype=np.float32)
        client.upsert(
            collection,
            points=models.Batch(ids=ids, vectors=vectors.tolist(), payloads=payloads),
            wait=True,
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--subjects", type=int, default=50)
    parser.add_argument(
        "--probe",
        type=int,
        default=0,
        help="one collection only; this many subjects per side, and the "
        "figures for --subjects extrapolated from them (for --points 1000000)",
    )
    parser.add_argument(
        "--engine",
        choices=("client", "edge"),
        default="client",
        help="client: qdrant-client's local mode in memory; edge: Qdrant Edge "
        "(bench/_vector_edge.py)",
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacydesk.settings")
    import django

    django.setup()
    if args.engine == "edge":
        from _vector_edge import run

        run(args)
        return
    from qdrant_client import QdrantClient, models

    from connectors.base import Identity, Job
    from connectors.choices import Action
    from connectors.kinds.vectors.qdrant import QdrantConnector, QdrantEngine

    client = QdrantClient(":memory:")
    sides = ("ours",) if args.probe else ("ours", "direct")
    print(f"qdrant-client local mode, in memory: {args.points:,} points x {len(sides)}")
    loaded = [load(client, name, args.points) for name in sides]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load: {' + '.join(f'{t:.1f} s' for t in loaded)}; peak RSS {rss:.0f} MB")
    target = "ours" if args.probe else "direct"

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
    drawn = random.Random(SEED).sample(range(customers), args.subjects)
    # a probe erases `probe` subjects each way in the one collection
    subjects = drawn[: args.probe] if args.probe else drawn
    others = drawn[args.probe : 2 * args.probe] if args.probe else drawn

    ours = direct = erase_only = ours_cpu = direct_cpu = 0.0
    erased = 0
    for customer, other in zip(subjects, others, strict=True):
        identity = Identity(emails=(email(customer),))
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
                    key="customer_email", match=models.MatchAny(any=[email(other)])
                ),
                models.FieldCondition(
                    key="conversation_id",
                    match=models.MatchAny(any=conversations(other)),
                ),
            ]
        )
        cpu = time.process_time()
        started = time.perf_counter()
        client.delete(target, models.FilterSelector(filter=selector), wait=True)
        direct += time.perf_counter() - started
        direct_cpu += time.process_time() - cpu

    done = len(subjects)
    assert erased == done * PER_CUSTOMER, erased
    left = [client.count(name, exact=True).count for name in sides]
    if args.probe:
        assert left == [args.points - 2 * erased], left
        scale = args.subjects / done
        print(
            f"PROBE: {done} subject(s) each way; the figures below are scaled "
            f"x{scale:g} to {args.subjects} subjects (extrapolated, not run)"
        )
        ours, erase_only, direct = ours * scale, erase_only * scale, direct * scale
        ours_cpu, direct_cpu = ours_cpu * scale, direct_cpu * scale
    else:
        assert left[0] == left[1] == args.points - erased, left
    per = {name: count / done for name, count in engine.calls.items()}
    cost = {name: engine.seconds[name] / engine.calls[name] for name in engine.calls}
    print(f"{done} subject(s) erased by each side, {erased:,} points; left {left}")
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
        f"SUMMARY points={args.points} subjects={args.subjects} "
        f"{'extrapolated_from=' + str(done) + ' ' if args.probe else ''}"
        f"ours={ours:.2f}s "
        f"direct={direct:.2f}s ratio={ours / direct:.2f}x "
        f"cpu_ratio={ours_cpu / direct_cpu:.2f}x"
    )


if __name__ == "__main__":
    main()
