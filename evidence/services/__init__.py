"""Writes of the evidence app: evidence packs (see evidence_packs). This
package is the public surface: callers import from `evidence.services`."""

from evidence.services.access_review_packs import (
    AccessReviewPack,
    access_review_pack_generate,
)
from evidence.services.evidence_packs import (
    GeneratedPack,
    evidence_pack_download,
    evidence_pack_download_for_run,
    evidence_pack_generate,
    evidence_pack_generate_for_run,
    evidence_pack_generate_on_close,
    evidence_pack_generate_on_run_end,
)

__all__ = [
    "AccessReviewPack",
    "access_review_pack_generate",
    "GeneratedPack",
    "evidence_pack_download",
    "evidence_pack_download_for_run",
    "evidence_pack_generate",
    "evidence_pack_generate_for_run",
    "evidence_pack_generate_on_close",
    "evidence_pack_generate_on_run_end",
]
