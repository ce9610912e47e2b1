"""The Celery application; task modules are discovered in each app."""

import logging
import os
import time

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacydesk.settings")

app = Celery("privacydesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _load_before_fork(**_: object) -> None:
    """Load in the worker's main process, before the pool forks, what the
    first tasks of every pool process would otherwise load on their own: the
    URLconf (links in notices and packages), the PDF library of the access
    letter and the redaction engines. That is several seconds per process,
    paid by the first request it serves (and again whenever a process is
    replaced); forked after this, the processes start warm and share it."""
    logger = logging.getLogger("privacydesk.celery")
    started = time.monotonic()
    try:
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 - imports every URL module
        from connectors.redaction_engines import analyzer

        analyzer()
        import weasyprint  # noqa: F401
    except Exception:  # a missing optional library must not stop the worker
        logger.warning("pre-loading before fork failed", exc_info=True)
    logger.info("pre-loaded in %.1f s", time.monotonic() - started)


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task: object = None, **_: object) -> None:
    """Around every task, close database connections that are past
    DATABASE_CONN_MAX_AGE or broken, and keep the others (settings:
    CELERY_DB_REUSE_MAX stops Celery from closing them all). Not for eager
    tasks: they run inside the caller's transaction."""
    request = getattr(task, "request", None)
    if getattr(request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
