"""Writes of the evidence app (see the modules for each part)."""

from evidence.services.downloads import (
    access_package_code_check,
    access_package_code_send,
    access_package_download,
)
from evidence.services.packages import (
    access_package_build_and_close,
    access_package_notify_ready,
    access_packages_purge_expired,
)

__all__ = [
    "access_package_build_and_close",
    "access_package_code_check",
    "access_package_code_send",
    "access_package_download",
    "access_package_notify_ready",
    "access_packages_purge_expired",
]
