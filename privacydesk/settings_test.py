"""Test overrides: real PostgreSQL and Redis when DATABASE_URL says so."""

import os
import tempfile

os.environ.setdefault(
    "PRIVACYDESK_VAR_DIR", os.path.join(tempfile.gettempdir(), "privacydesk-test-var")
)

from privacydesk.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# A SaaS call refused with a 5xx is retried after tenths, not seconds (what is
# tested is how often, not how long).
SAAS_BACKOFF_BASE_MS = 50
# Unit tests run tasks in-process at commit; tests/integration starts a
# real worker against a real broker instead.
CELERY_TASK_ALWAYS_EAGER = True
# Staff sign in with a password alone unless a test turns the second factor
# on (tests/accounts/test_mfa.py); force_login sessions stay valid.
STAFF_MFA_REQUIRED = False
