from django.db import models


class PolicyAction(models.TextChoices):
    DELETE = "delete", "Delete the rows (and their child rows)"
    ANONYMIZE = "anonymize", "Anonymize fields (set them empty)"
    REDACT_PII = "redact_pii", "Redact personal data in text fields"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    INTERRUPTED = "interrupted", "Interrupted (resumes on the next run)"


ATTENTION_STATUSES = (RunStatus.FAILED, RunStatus.INTERRUPTED)
