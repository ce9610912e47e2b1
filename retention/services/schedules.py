"""A policy's beat schedule: the crontab text on the policy mirrored into a
django-celery-beat PeriodicTask, which beat reads."""

from __future__ import annotations

import json

from django_celery_beat.models import CrontabSchedule, PeriodicTask

from dsr.clock import controller_zone
from retention.models import RetentionPolicy
from retention.services.policy_rules import schedule_parts

TASK = "retention.tasks.purge_run_task"


def policy_schedule_sync(policy: RetentionPolicy) -> None:
    """Create or update the policy's PeriodicTask (beat reads it)."""
    crontab, _ = CrontabSchedule.objects.get_or_create(
        **schedule_parts(policy.schedule), timezone=controller_zone()
    )
    task = policy.periodic_task or PeriodicTask(name=f"retention:{policy.public_id}")
    task.task = TASK
    task.crontab = crontab
    task.interval = None
    task.args = json.dumps([policy.pk])
    task.kwargs = "{}"
    task.enabled = policy.enabled
    task.description = f"Retention policy: {policy.name}"[:200]
    task.save()
    if policy.periodic_task_id != task.pk:
        RetentionPolicy.objects.filter(pk=policy.pk).update(periodic_task=task)
        policy.periodic_task = task
