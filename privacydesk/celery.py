"""The Celery application; task modules are discovered in each app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacydesk.settings")

app = Celery("privacydesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
