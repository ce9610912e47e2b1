from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from privacydesk.history import history as history_records
from retention.choices import PolicyAction, RunStatus


class RetentionPolicy(models.Model):
    """How long one table of one store may keep rows, and what happens after."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    # The built-in policy (Privacy Desk's own requests) has no connector.
    connector = models.ForeignKey(
        "connectors.Connector",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="retention_policies",
    )
    table = models.CharField(max_length=63)
    category = models.CharField(max_length=50, blank=True)
    age_column = models.CharField(max_length=63)  # the timestamp that ages a row
    max_age_days = models.PositiveIntegerField()
    action = models.CharField(max_length=20, choices=PolicyAction.choices)
    fields = models.JSONField(default=list, blank=True)  # anonymize / redact these
    apply_to_children = models.BooleanField(default=True)
    enabled = models.BooleanField(default=True)
    # minute hour day-of-month month day-of-week, in the controller's zone;
    # mirrored into `periodic_task`, which celery beat reads.
    schedule = models.CharField(max_length=120, default="0 3 * * *")
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    batch_size = models.PositiveIntegerField(default=5000)
    builtin = models.BooleanField(default=False)
    # Beat runs a policy for real only once an officer has confirmed a real
    # run against a dry run's counts (issue 16); until then, and again after
    # its scope changes, beat dry-runs it. Who confirmed (actor ref) and when.
    real_runs_confirmed_at = models.DateTimeField(null=True, blank=True)
    real_runs_confirmed_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = history_records()

    class Meta:
        ordering = ["-builtin", "name"]
        verbose_name_plural = "retention policies"
        constraints = [
            models.UniqueConstraint(
                fields=["builtin"],
                condition=Q(builtin=True),
                name="one_builtin_retention_policy",
            )
        ]

    def __str__(self) -> str:
        return self.name


class PurgeRun(models.Model):
    """One run of a policy, real or dry: what it did, and where to resume."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    policy = models.ForeignKey(
        RetentionPolicy, on_delete=models.PROTECT, related_name="runs"
    )
    dry_run = models.BooleanField(default=False)
    status = models.CharField(
        max_length=12, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    cutoff = models.DateTimeField()  # rows aged before this were in scope
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField()  # a running run that stops beating died
    # {"messages": {"examined": 10, "changed": 9, "skipped_held": 1}, ...}
    tables = models.JSONField(default=dict, blank=True)
    batches = models.PositiveIntegerField(default=0)
    # [{"at": ISO time, "message": text without personal data, "permanent": bool}]
    errors = models.JSONField(default=list, blank=True)
    # {"table": ..., "after_key": last key done, "upper_key": ..., "done": bool}
    checkpoint = models.JSONField(default=dict, blank=True)
    longest_batch_ms = models.PositiveIntegerField(default=0)
    longest_transaction_ms = models.PositiveIntegerField(default=0)
    peak_rss_kb = models.PositiveIntegerField(null=True, blank=True)
    triggered_by = models.CharField(max_length=100)  # actor ref: user, client, beat
    resumed_count = models.PositiveIntegerField(default=0)
    # The policy as it was when the run began, and its history row (the
    # settings version an evidence pack cites).
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    policy_snapshot = models.JSONField(default=dict, blank=True)
    # The holds that applied: [{"id", "scope", "legal_basis", "reason", ...}]
    holds = models.JSONField(default=list, blank=True)
    # A real run started by staff: the dry run whose counts they confirmed.
    confirmed_from = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            # Two real runs of one policy at once would race on the same rows.
            models.UniqueConstraint(
                fields=["policy"],
                condition=Q(status="running", dry_run=False),
                name="one_running_purge_per_policy",
            )
        ]
        indexes = [models.Index(fields=["policy", "status"])]

    def __str__(self) -> str:
        return f"purge run {self.public_id}"

    def totals(self) -> dict[str, int]:
        keys = ("examined", "changed", "skipped_held")
        return {
            key: sum(int(counts.get(key, 0)) for counts in self.tables.values())
            for key in keys
        }

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class MinimisedRequest(models.Model):
    """A closed request whose plaintext identifiers the built-in policy removed."""

    request = models.OneToOneField(
        "dsr.Request", on_delete=models.CASCADE, related_name="+"
    )
    run = models.ForeignKey(PurgeRun, on_delete=models.PROTECT, related_name="+")
    minimised_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-minimised_at"]

    def __str__(self) -> str:
        return f"minimised {self.request_id}"
