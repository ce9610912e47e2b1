from __future__ import annotations

import uuid

from django.db import models

from evidence.choices import PackageKind


class AccessPackage(models.Model):
    """The ZIP answering one access or portability request, and its downloads."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.OneToOneField(
        "dsr.Request", on_delete=models.PROTECT, related_name="access_package"
    )
    kind = models.CharField(max_length=20, choices=PackageKind.choices)
    file = models.CharField(max_length=300, blank=True)  # storage name; "" once purged
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # [{"name": "data.json", "size": 1234, "compressed_size": 321}, ...]
    contents = models.JSONField(default=list)
    record_count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField()
    purged_at = models.DateTimeField(null=True, blank=True)
    download_count = models.PositiveIntegerField(default=0)
    last_downloaded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"access package {self.public_id}"

    @property
    def filename(self) -> str:
        """What the subject's browser saves it as: the reference, no name."""
        return f"{self.request.reference}-access-package.zip"
