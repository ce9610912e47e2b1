from django.db import models


class PackageKind(models.TextChoices):
    ACCESS = "access", "Access (GDPR Art. 15)"
    PORTABILITY = "portability", "Portability (GDPR Art. 20)"


class EvidenceKind(models.TextChoices):
    REQUEST = "request", "Data-subject request"
    PURGE_RUN = "purge_run", "Retention purge run"
