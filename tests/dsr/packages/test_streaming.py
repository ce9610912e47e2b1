"""The package is streamed: memory stays flat however many records there are."""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
import tracemalloc

from django.core.files import File
from django.core.files.storage import default_storage
from django.template.loader import get_template
from django.urls import reverse

from dsr.services.packages import access_package_build_and_close
from tests.dsr.packages.conftest import HELPDESK_DISCLOSURE, open_package

RECORDS = 100_000


def _big_result(request, task) -> int:
    """Write 100,000 message records (~30 MB) as the executor would."""
    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryFile() as spool:
        for number in range(RECORDS):
            line = (
                json.dumps(
                    {
                        "category": "support_ticket",
                        "data": {
                            "body": f"Message {number}: " + "where is my parcel? " * 10,
                            "id": number,
                            "ticket_id": number // 20,
                        },
                        "key": str(number),
                        "location": "messages",
                    },
                    sort_keys=True,
                )
                + "\n"
            ).encode()
            digest.update(line)
            spool.write(line)
            size += len(line)
        spool.seek(0)
        task.result_file = default_storage.save(
            f"dsr/{request.public_id}/{task.public_id}.jsonl", File(spool)
        )
    task.result_digest = digest.hexdigest()
    task.records_found = RECORDS
    task.save()
    return size


def test_100k_records_are_packaged_with_flat_memory(make_request, make_connector):
    # given one store that returned 100,000 records
    request = make_request(verified=True)
    connector = make_connector("helpdesk", HELPDESK_DISCLOSURE, ["support_ticket"])
    task = request.tasks.create(
        connector=connector, action="access", status="succeeded"
    )
    data_size = _big_result(request, task)

    # Imports and template compilation happen once per process: do them now,
    # so the figure is the build's own.
    reverse("portal:home")
    for page in ("index.html", "letter.html"):
        get_template(f"dsr/access_package/{page}")

    # when
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = access_package_build_and_close(request_id=request.pk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        seconds = time.perf_counter() - started
        tracemalloc.stop()

    # then the peak is a small fraction of the data, and nothing was lost
    assert result == "completed"
    figure = (
        f"{RECORDS} records, {data_size / 1e6:.1f} MB of results: tracemalloc "
        f"peak {peak / 1e6:.2f} MB, {seconds:.1f} s (traced)"
    )
    print(f"\n{figure}")  # noqa: T201 (the figure, shown with -s)
    # What is kept in memory for speed (parsed records, CSVs and the ZIP up
    # to a few hundred KB each) is bounded, whatever the records.
    assert peak < data_size / 20, figure
    package = request.access_package
    assert package.record_count == RECORDS
    archive = open_package(package)
    with archive.open("csv/helpdesk/messages.csv") as rows:
        assert sum(1 for _ in rows) == RECORDS + 1  # and the header
    with archive.open("data.json") as data:
        stores = json.load(data)["stores"]
    assert len(stores[0]["records"]) == RECORDS
    assert stores[0]["records"][-1]["key"] == str(RECORDS - 1)
