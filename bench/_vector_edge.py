"""vector_erasure.py --engine edge: the same erasures on Qdrant Edge
(qdrant-edge-py), Qdrant's own engine in this process, at a million points.

The store: one Edge shard of `--points` seeded points (the payloads of
_vector_points, 8-dimension seeded vectors) with keyword payload indexes on
`customer_email` and `conversation_id`, as its owner would index them,
flushed, closed and copied twice, so three identical collections:

- ours: the qdrant kind with `"engine": "edge"`, `kind.run` for erase then
  for verify_erasure with the erasure's receipt, as the executor runs one
  store: each action loads the shard from disk and closes it after
  (the kind's engine lives for one action);
- kept: the same runs with one engine kept open across the subjects (what
  the kind's calls cost without loading the shard);
- direct: Edge's own `delete_points_by_filter`, once per subject, on a
  shard kept open, with the filter that removes the same points (e-mail OR
  the subject's conversation ids, known here from the generator).

Subject by subject, the three sides in turn; then the three collections
must hold the same number of points, and no subject's point anywhere.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import load_average
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

KEYS = {"email": "customer_email", "conversation_id": "conversation_id"}
SIDES = ("ours", "kept", "direct")


def load(folder: Path, points: int) -> tuple[float, float, int]:
    """The seeded shard at `folder`: seconds to write the points, seconds
    to index the keys (then flush and close), its segment count."""
    import numpy as np
    import qdrant_edge as edge

    config = edge.EdgeConfig(
        vectors=edge.EdgeVectorParams(size=DIMENSIONS, distance=edge.Distance.Cosine)
    )
    shard = edge.EdgeShard.create(str(folder), config)
    rng = np.random.default_rng(SEED)
    started = time.perf_counter()
    for start in range(0, points, BATCH):
        ids = range(start, min(points, start + BATCH))
        vectors = rng.random((len(ids), DIMENSIONS), dtype=np.float32).tolist()
        shard.update(
            edge.UpdateOperation.upsert_points(
                [
                    edge.Point(point, vector, payload(point))
                    for point, vector in zip(ids, vectors, strict=True)
                ]
            )
        )
    written = time.perf_counter() - started
    started = time.perf_counter()
    for key in KEYS.values():
        shard.update(
            edge.UpdateOperation.create_field_index(key, edge.PayloadSchemaType.Keyword)
        )
    shard.flush()
    segments = shard.info().segments_count
    shard.close()
    return written, time.perf_counter() - started, segments


def run(args: argparse.Namespace) -> None:
    import qdrant_edge as edge

    from connectors.base import Identity, Job
    from connectors.choices import Action
    from connectors.kinds.vectors.qdrant import QdrantConnector

    print(f"load average before: {load_average()}")
    root = Path(tempfile.mkdtemp(prefix="pd-bench-edge-"))
    try:
        print(f"Qdrant Edge (qdrant-edge-py 0.9.0): {args.points:,} points x 3 copies")
        written, indexed, segments = load(root / "ours" / "memory", args.points)
        started = time.perf_counter()
        for side in SIDES[1:]:
            shutil.copytree(root / "ours", root / side)
        copied = time.perf_counter() - started
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"load: {written:.1f} s to write, {indexed:.1f} s to index the two "
            f"keys and flush ({segments} segment(s)), {copied:.1f} s to copy "
            f"twice; peak RSS {rss:.0f} MB"
        )

        calls: dict[str, dict[str, int]] = {"ours": {}, "kept": {}}
        seconds: dict[str, dict[str, float]] = {"ours": {}, "kept": {}}

        def config(side: str) -> dict[str, Any]:
            return QdrantConnector.validate_config(
                {
                    "engine": "edge",
                    "path": str(root / side),
                    "collections": ["memory"],
                    "keys": KEYS,
                }
            )

        class PerAction(QdrantConnector):
            """The kind as it runs: its engine opened per action, counted."""

            def open_engine(self) -> Any:
                engine = super().open_engine()
                started = time.perf_counter()  # the shard's load, apart
                engine._shard("memory")  # type: ignore[attr-defined]
                took = time.perf_counter() - started
                calls["ours"]["load"] = calls["ours"].get("load", 0) + 1
                seconds["ours"]["load"] = seconds["ours"].get("load", 0.0) + took
                return Counted(
                    engine,
                    calls=calls["ours"],
                    seconds=seconds["ours"],
                    keep_open=False,
                )

        ours = PerAction(name="ours", config=config("ours"), secrets={})
        opened = QdrantConnector(name="kept", config=config("kept"), secrets={})
        shared = Counted(
            opened.open_engine(),
            calls=calls["kept"],
            seconds=seconds["kept"],
        )

        class KeptOpen(QdrantConnector):
            def open_engine(self) -> Any:
                return shared

        kept = KeptOpen(name="kept", config=config("kept"), secrets={})
        direct = edge.EdgeShard.load(str(root / "direct" / "memory"))

        customers = args.points // PER_CUSTOMER
        drawn = random.Random(SEED).sample(range(customers), args.subjects)
        wall: dict[str, list[float]] = {side: [] for side in SIDES}
        cpu = dict.fromkeys(SIDES, 0.0)
        erased = dict.fromkeys(SIDES, 0)
        for customer in drawn:
            identity = Identity(emails=(email(customer),))
            for side, kind in (("ours", ours), ("kept", kept)):
                cpu_started = time.process_time()
                started = time.perf_counter()
                receipt = kind.run(
                    Job(
                        task_id="b",
                        request_reference="B",
                        action=Action.ERASE,
                        identity=identity,
                    ),
                    sink=None,  # type: ignore[arg-type]
                )
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
                wall[side].append(time.perf_counter() - started)
                cpu[side] += time.process_time() - cpu_started
                assert check.found == 0, check
                erased[side] += receipt.changed

            selector = edge.Filter(
                should=[
                    edge.FieldCondition(
                        key="customer_email", match=edge.MatchAny([email(customer)])
                    ),
                    edge.FieldCondition(
                        key="conversation_id",
                        match=edge.MatchAny(conversations(customer)),
                    ),
                ]
            )
            cpu_started = time.process_time()
            started = time.perf_counter()
            direct.update(edge.UpdateOperation.delete_points_by_filter(selector))
            wall["direct"].append(time.perf_counter() - started)
            cpu["direct"] += time.process_time() - cpu_started
            erased["direct"] += PER_CUSTOMER - direct.count(
                edge.CountRequest(exact=True, filter=selector)
            )

        shared.engine.close()
        _check(root, direct, drawn, erased, args)
        _report(args, wall, cpu, calls, seconds)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"load average after: {load_average()}")


def _check(
    root: Path,
    direct: Any,
    drawn: list[int],
    erased: dict[str, int],
    args: argparse.Namespace,
) -> None:
    """Each side erased every point of the subjects and nothing else."""
    import qdrant_edge as edge

    direct.close()
    everyone = edge.Filter(
        should=[
            edge.FieldCondition(
                key="conversation_id",
                match=edge.MatchAny([c for n in drawn for c in conversations(n)]),
            )
        ]
    )
    for side in SIDES:
        shard = edge.EdgeShard.load(str(root / side / "memory"))
        try:
            left = shard.count(edge.CountRequest(exact=True))
            theirs = shard.count(edge.CountRequest(exact=True, filter=everyone))
        finally:
            shard.close()
        assert erased[side] == PER_CUSTOMER * len(drawn), (side, erased)
        assert (left, theirs) == (args.points - erased[side], 0), (side, left, theirs)
    print(
        f"{len(drawn)} subjects erased by each side, {erased['ours']:,} points each; "
        f"{args.points - erased['ours']:,} left in each collection, none of theirs"
    )


def _report(
    args: argparse.Namespace,
    wall: dict[str, list[float]],
    cpu: dict[str, float],
    calls: dict[str, dict[str, int]],
    seconds: dict[str, dict[str, float]],
) -> None:
    total = {side: sum(times) for side, times in wall.items()}
    for side, label in (
        ("ours", "ours (the kind's run, erase + verify, shard opened per action)"),
        ("kept", "kept (the kind's run, erase + verify, one engine kept open)"),
        ("direct", "direct (Edge's delete_points_by_filter, once a subject)"),
    ):
        times = sorted(wall[side])
        print(
            f"{label}:\n    total {total[side]:.3f} s wall, {cpu[side]:.3f} s CPU; "
            f"a subject: median {statistics.median(times) * 1000:.2f} ms, "
            f"max {times[-1] * 1000:.2f} ms"
        )
    for side in ("ours", "kept"):
        print(
            f"ratio {side}/direct: {total[side] / total['direct']:.1f}x wall, "
            f"{cpu[side] / cpu['direct']:.1f}x CPU"
        )
        done = len(wall[side])
        print(
            f"    engine calls a subject ({side}): "
            + ", ".join(
                f"{name} {count / done:g} ({seconds[side][name] / count * 1000:.2f} ms)"
                for name, count in sorted(calls[side].items())
            )
        )
    print(
        f"SUMMARY engine=edge points={args.points} subjects={args.subjects} "
        f"ours={total['ours']:.3f}s kept={total['kept']:.3f}s "
        f"direct={total['direct']:.3f}s "
        f"ratio={total['ours'] / total['direct']:.1f}x "
        f"ratio_kept={total['kept'] / total['direct']:.1f}x "
        f"cpu_ratio={cpu['ours'] / cpu['direct']:.1f}x "
        f"cpu_ratio_kept={cpu['kept'] / cpu['direct']:.1f}x"
    )
