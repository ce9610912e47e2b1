from django.db import models


class EvidenceKind(models.TextChoices):
    REQUEST = "request", "Data-subject request"
    PURGE_RUN = "purge_run", "Retention purge run"
