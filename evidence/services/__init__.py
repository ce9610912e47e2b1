"""Writes of the evidence app (see the modules for each part)."""

from evidence.services.downloads import (
    access_package_code_check,
    access_package_code_send,
    access_package_download,
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
from evidence.services.letters import LetterPdf, access_package_letter_pdf
from evidence.services.packages import (
    access_package_build_and_close,
    access_package_notify_ready,
    access_packages_purge_expired,
)

__all__ = [
    "GeneratedPack",
    "LetterPdf",
    "access_package_build_and_close",
    "access_package_code_check",
    "access_package_code_send",
    "access_package_download",
    "access_package_letter_pdf",
    "access_package_notify_ready",
    "access_packages_purge_expired",
    "evidence_pack_download",
    "evidence_pack_download_for_run",
    "evidence_pack_generate",
    "evidence_pack_generate_for_run",
    "evidence_pack_generate_on_close",
    "evidence_pack_generate_on_run_end",
]
