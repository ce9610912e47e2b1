"""verify_evidence: OK for an untouched pack; every kind of tampering named."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.actors import actor_system
from audit.models import AuditEvent
from evidence.demo import sample_closed_erasure
from evidence.packs.verify import evidence_pack_verify
from evidence.services import evidence_pack_generate
from tests.evidence.pack_helpers import embedded, rewrite_attachment, tamper

pytestmark = pytest.mark.django_db


@pytest.fixture
def pack_file(tmp_path: Path) -> Path:
    request = sample_closed_erasure(stores=2)
    result = evidence_pack_generate(actor=actor_system("tests"), request=request)
    path = tmp_path / result.pack.filename
    path.write_bytes(result.content)
    return path


def _verify(path: Path) -> tuple[str, str | None]:
    """(output, error) of the command."""
    out = StringIO()
    try:
        call_command("verify_evidence", str(path), stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None


def test_untouched_pack_verifies(pack_file: Path) -> None:
    output, error = _verify(pack_file)

    assert error is None
    assert output.rstrip().endswith("OK")
    assert "DIFFERS" not in output
    assert "facts digest" in output
    assert "unaltered" in output
    assert "recorded at event #" in output


def test_altered_audit_row_is_caught(pack_file: Path) -> None:
    # given one of the pack's events changed in the database
    listed = embedded(pack_file.read_bytes())["facts"]["audit"]["events"]
    target = next(e for e in listed if e["action"] == "request.extended")
    tamper(
        "UPDATE audit_auditevent SET data = %s WHERE sequence = %s",
        ['{"due_on": "2030-01-01"}', target["sequence"]],
    )

    # when
    output, error = _verify(pack_file)

    # then
    assert error is not None
    assert "does NOT verify" in error
    assert (
        f"event #{target['sequence']} was altered in the database: its stored "
        "fields no longer produce its hash (differs from the pack in: data)"
    ) in output
    assert "OK\n" not in output


def test_altered_row_with_a_recomputed_hash_breaks_the_link(pack_file: Path) -> None:
    # given an attacker who also rewrote the row's hash to match its new content
    listed = embedded(pack_file.read_bytes())["facts"]["audit"]["events"]
    target = listed[1]
    row = AuditEvent.objects.get(sequence=target["sequence"])
    row.data = {"forged": True}
    from audit.chain import hash_of

    forged = hash_of(row)
    tamper(
        "UPDATE audit_auditevent SET data = %s, hash = %s WHERE sequence = %s",
        ['{"forged": true}', forged, target["sequence"]],
    )

    output, error = _verify(pack_file)

    assert error is not None
    number = target["sequence"]
    assert f"event #{number} hash mismatch" in output
    assert f"broken link at #{number + 1}" in output


def test_removed_event_is_caught(pack_file: Path) -> None:
    listed = embedded(pack_file.read_bytes())["facts"]["audit"]["events"]
    number = listed[2]["sequence"]
    tamper("DELETE FROM audit_auditevent WHERE sequence = %s", [number])

    output, error = _verify(pack_file)

    assert error is not None
    assert f"event #{number} is missing from the audit chain" in output
    assert f"broken link at #{number}" in output


def test_a_missing_chain_head_is_caught(pack_file: Path) -> None:
    head = embedded(pack_file.read_bytes())["facts"]["audit"]["chain_head"]
    tamper("DELETE FROM audit_auditevent WHERE sequence = %s", [head["sequence"]])

    output, error = _verify(pack_file)

    assert error is not None
    assert f"chain head #{head['sequence']} is missing from the chain" in output


def test_one_byte_changed_in_the_embedded_json_is_caught(pack_file: Path) -> None:
    # given the attachment rewritten with one byte changed: a store's count
    def change(data: bytes) -> bytes:
        index = data.index(b'"found": 51')
        return data[: index + 10] + b"0" + data[index + 11 :]

    forged = rewrite_attachment(pack_file.read_bytes(), change)
    assert embedded(forged) != embedded(pack_file.read_bytes())
    forged_path = pack_file.with_name("forged.pdf")
    forged_path.write_bytes(forged)

    # when
    output, error = _verify(forged_path)

    # then
    assert error is not None
    assert "JSON digest mismatch" in output
    assert "is not recorded in the audit chain" in output


def test_consistently_rewritten_json_still_fails_against_the_chain(
    pack_file: Path,
) -> None:
    # given a forger who edits an audit event in the JSON and re-seals the digest
    import json

    from evidence.packs.canonical import facts_digest

    def change(data: bytes) -> bytes:
        document = json.loads(data)
        event = document["facts"]["audit"]["events"][0]
        event["actor"] = "user:999"
        document["digest"]["value"] = facts_digest(document["facts"])
        return json.dumps(document).encode()

    forged_path = pack_file.with_name("resealed.pdf")
    forged_path.write_bytes(rewrite_attachment(pack_file.read_bytes(), change))

    report = evidence_pack_verify(content=forged_path.read_bytes())

    assert not report.ok
    first = embedded(pack_file.read_bytes())["facts"]["audit"]["events"][0]
    assert any(
        f"event #{first['sequence']}: the pack's copy no longer produces" in p
        for p in report.problems
    )
    assert any("the pages state facts digest" in p for p in report.problems)


def test_a_file_that_is_not_a_pack_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.pdf"
    from weasyprint import HTML

    path.write_bytes(HTML(string="<p>hello</p>").write_pdf())

    output, error = _verify(path)

    assert error is not None
    assert "no embedded evidence.json" in output
