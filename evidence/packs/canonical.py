"""The embedded JSON document, and the digest that seals its facts.

The digest is SHA-256 over the facts in one canonical form (keys sorted, no
insignificant whitespace, UTF-8), so the attachment itself can be indented for
people to read and still be checked byte for byte by a program.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

FORMAT = "privacydesk.evidence-pack/1"
ATTACHMENT_NAME = "evidence.json"
DIGEST_RULE = "sha256 of `facts` as JSON: keys sorted, separators ',' ':', UTF-8"
# The PDF's Keywords metadata carries the digest too: `facts-sha256:<hex>`.
KEYWORD_PREFIX = "facts-sha256:"


def canonical_bytes(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def facts_digest(facts: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(facts)).hexdigest()


def document_bytes(facts: dict[str, Any]) -> tuple[bytes, str]:
    """The attachment's bytes and the facts' digest."""
    digest = facts_digest(facts)
    document = {
        "format": FORMAT,
        "digest": {"algorithm": "sha256", "rule": DIGEST_RULE, "value": digest},
        "facts": facts,
    }
    text = json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False)
    return (text + "\n").encode(), digest
