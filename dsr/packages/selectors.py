"""Reads of access packages, scoped the way the portal reaches them."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from dsr.choices import ChallengePurpose, PackageKind
from dsr.models import AccessPackage, Request
from dsr.packages.links import download_token_read


def access_package_for_request(*, request: Request) -> AccessPackage | None:
    return (
        AccessPackage.objects.select_related("request").filter(request=request).first()
    )


def access_package_is_available(*, package: AccessPackage) -> bool:
    """Released to the subject (not held for review), still stored and not
    past its end date."""
    return (
        not package.held and bool(package.file) and package.expires_at > timezone.now()
    )


def access_package_letter_available(*, request: Request) -> bool:
    """An access request whose package (and so its letter) can be downloaded."""
    if request.kind != PackageKind.ACCESS:
        return False
    package = AccessPackage.objects.filter(request=request).first()
    return package is not None and access_package_is_available(package=package)


def access_package_code_pending(*, package: AccessPackage) -> bool:
    """A download code was sent and can still be used."""
    return package.request.challenges.filter(
        purpose=ChallengePurpose.DOWNLOAD,
        used_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).exists()


@dataclass(frozen=True)
class LinkCheck:
    package: AccessPackage | None
    expired: bool = False  # True: the link or the package is past its time (410)


def access_package_from_link(*, token: str) -> LinkCheck:
    """The package a download link points at, if the link still works."""
    reading = download_token_read(token)
    if reading.value is None:
        return LinkCheck(None, expired=reading.expired)
    package = (
        AccessPackage.objects.select_related("request")
        .filter(public_id=reading.value)
        .first()
    )
    if package is None:
        return LinkCheck(None)
    if not access_package_is_available(package=package):
        return LinkCheck(None, expired=True)
    return LinkCheck(package)
