"""Privacy Desk settings, read from the environment.

Defaults serve a laptop: SQLite, a SQLite-backed Celery broker and console
e-mail. Every production part is switched on by setting its variable (see
.env.example); nothing needs editing here.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
import phonenumbers
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from privacydesk.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PRIVACYDESK_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
# Embedded mode is the laptop default; production must say so explicitly.
EMBEDDED = env_bool("PRIVACYDESK_EMBEDDED", True)

_DEV_SECRET = "insecure-embedded-mode-only-secret-key-change-me"
SECRET_KEY = env_secret("SECRET_KEY", _DEV_SECRET if EMBEDDED else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when PRIVACYDESK_EMBEDDED=false")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_celery_beat",
    # Staff TOTP (authenticator apps) and single-use recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Failed-login lockout.
    "axes",
    "privacydesk",
    "accounts",
    "audit",
    "subjects",
    "connectors",
    "dsr",
    "consent",
    "masking",
    "evidence",
    "retention",
    "opendsr",
    "training",
    "records",
    "alerts",
    "breaches",
    "portal",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): signed in with a second factor this session.
    "django_otp.middleware.OTPMiddleware",
    # Staff pages (dashboard, admin): sessions ended by "log out everywhere",
    # the second factor asked for or enrolment required first.
    "accounts.middleware.StaffSecurityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # An API client's first successful use of a scope, audited (new-scope alert).
    "audit.api.permissions.ScopeUseMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its page.
    "axes.middleware.AxesMiddleware",
]
# The API under /api/v1/ (bearer tokens only) is served through these
# (privacydesk.handlers): what its answers depend on, nothing a browser's
# session needs. The same order as above.
API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The Host check (ALLOWED_HOSTS) and the trailing-slash redirect.
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "audit.api.permissions.ScopeUseMiddleware",
]

ROOT_URLCONF = "privacydesk.urls"
WSGI_APPLICATION = "privacydesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "privacydesk.context_processors.product",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'privacydesk.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A web server, a worker and beat share one file: WAL lets readers run
    # beside a writer, IMMEDIATE takes the write lock when a transaction
    # starts (no upgrade deadlocks), and the timeout waits instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
# The consent check and the masking gateway prepare their hot queries once on
# each PostgreSQL connection (privacydesk.prepared): parsing and planning them
# cost PostgreSQL more than running them. Behind a pooler in transaction mode
# that cannot keep prepared statements (PgBouncer before 1.21) set this to false.
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, consent answers) ---------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "privacydesk.cache.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "privacydesk_cache",
        }
    }

# --- Auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "dashboard:login"
LOGIN_REDIRECT_URL = "dashboard:queue"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not EMBEDDED)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not EMBEDDED)
SESSION_COOKIE_HTTPONLY = True
# Only staff sign in (the API takes bearer tokens, the portal signed links):
# a session ends after this many idle minutes, each request renewing it.
STAFF_SESSION_IDLE_MINUTES = env_int("STAFF_SESSION_IDLE_MINUTES", 30)
SESSION_COOKIE_AGE = STAFF_SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
# A second factor (TOTP, with recovery codes) for the roles listed, required
# by default in production; in embedded mode (the demo) it is optional.
STAFF_MFA_REQUIRED = env_bool("STAFF_MFA_REQUIRED", not EMBEDDED)
STAFF_MFA_ROLES = env_list("STAFF_MFA_ROLES", "privacy_officer,admin")
if unknown_roles := sorted(
    set(STAFF_MFA_ROLES) - {"privacy_officer", "support_agent", "auditor", "admin"}
):
    raise ImproperlyConfigured(f"STAFF_MFA_ROLES: unknown role(s) {unknown_roles}")
STAFF_MFA_RECOVERY_CODES = env_int("STAFF_MFA_RECOVERY_CODES", 10)
# Where the staff gate sends a session that still owes its second factor,
# and the pages that session may reach meanwhile.
STAFF_MFA_VERIFY_URL = "dashboard:mfa_verify"
STAFF_MFA_ENROL_URL = "dashboard:mfa_enrol"
STAFF_MFA_EXEMPT_VIEWS = [
    "dashboard:login",
    "dashboard:logout",
    "dashboard:mfa_verify",
    "dashboard:mfa_enrol",
]
OTP_TOTP_ISSUER = env_str("STAFF_MFA_ISSUER", "Privacy Desk")
# Failed sign-ins (django-axes): this many failures lock the account name,
# and the address they came from, for the cool-off; a success resets them.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("STAFF_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("STAFF_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# Axes keeps a keyed digest of the name typed, never the name itself.
AXES_USERNAME_CALLABLE = "accounts.security.axes_username"
AXES_LOCKOUT_CALLABLE = "dashboard.views.auth.lockout_response"
AXES_VERBOSE = False
# Behind N reverse proxies the client's address is N hops into
# X-Forwarded-For; with none, that header is a client's word and is ignored.
_AXES_PROXY_COUNT = env_int("STAFF_LOGIN_PROXY_COUNT", 0)
AXES_IPWARE_PROXY_COUNT = _AXES_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if _AXES_PROXY_COUNT else ["REMOTE_ADDR"]
)
# Access reviews (SOC 2 CC6.2, CC6.3): one every this many days (a quarter),
# API clients unused this long flagged in it.
ACCESS_REVIEW_INTERVAL_DAYS = env_int("ACCESS_REVIEW_INTERVAL_DAYS", 91)
ACCESS_REVIEW_UNUSED_DAYS = env_int("ACCESS_REVIEW_UNUSED_DAYS", 90)

# --- Time -----------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"  # storage; deadlines use the controller's zone below
CONTROLLER_TIME_ZONE = env_str("CONTROLLER_TIME_ZONE", "Europe/London")
DEADLINE_COUNTRY = env_str("DEADLINE_COUNTRY", "GB")
DEADLINE_SUBDIVISION = env_str("DEADLINE_SUBDIVISION", "ENG") or None
DEADLINE_DUE_SOON_DAYS = env_int("DEADLINE_DUE_SOON_DAYS", 7)
# EU practice: an identity request suspends the clock only if it was made
# without undue delay (EDPB 01/2022 para 159); this is "promptly", in days.
DEADLINE_ID_REQUEST_MAX_DELAY_DAYS = env_int("DEADLINE_ID_REQUEST_MAX_DELAY_DAYS", 3)
# Staff approval between verification and fan-out.
REQUESTS_REQUIRE_APPROVAL = env_bool("REQUESTS_REQUIRE_APPROVAL", False)
# Review steps (issue 16), off by default. REVIEW_BEFORE_ERASURE: "off", "all"
# (every erasure request), or a comma list of regimes (gdpr, uk_gdpr, ccpa)
# and/or request kinds that change data (erasure, rectification, restriction,
# objection): such a request waits, once verified, for an officer's review
# (dsr/review.py reads it; an unknown word stops the start-up).
REVIEW_BEFORE_ERASURE = env_list("REVIEW_BEFORE_ERASURE", "off")
# true: a built access package is held until an officer has reviewed and
# released it; the subject hears of it only then.
REVIEW_BEFORE_ACCESS_RELEASE = env_bool("REVIEW_BEFORE_ACCESS_RELEASE", False)

# --- Encryption of personal data at rest ----------------------------------
# Comma-separated Fernet keys, newest first; older keys still decrypt, so a
# key can be rotated with `manage.py rotate_field_keys`.
_DEV_FIELD_KEY = "pD3v0nlyKeyForEmbeddedModeNeverUseMe0000000="
FIELD_ENCRYPTION_KEYS = env_list(
    "FIELD_ENCRYPTION_KEYS", _DEV_FIELD_KEY if EMBEDDED else ""
)
BLIND_INDEX_KEY = env_secret(
    "BLIND_INDEX_KEY", "embedded-mode-blind-index-key" if EMBEDDED else ""
)
if not FIELD_ENCRYPTION_KEYS or not BLIND_INDEX_KEY:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS and BLIND_INDEX_KEY must be set in production"
    )

# --- Connectors ------------------------------------------------------------
# Folders a `files` connector may read and rewrite (empty: any folder).
CONNECTOR_FILES_ROOTS = env_list("CONNECTOR_FILES_ROOTS")
# Regions (ISO 3166 codes) whose national phone formats redaction recognises
# in free text, e.g. "07700 900123" (GB) or "(404) 555-4383" (US); numbers
# written with a country code are recognised from anywhere.
PII_PHONE_REGIONS = [
    code.upper()
    for code in env_list("PII_PHONE_REGIONS", "US,GB,DE,FR,ES,IT,NL,IE,CA,AU")
]
if unknown := sorted(set(PII_PHONE_REGIONS) - phonenumbers.SUPPORTED_REGIONS):
    raise ImproperlyConfigured(f"PII_PHONE_REGIONS: unknown region(s) {unknown}")
# SQL data discovery: at most this many non-null values sampled per column
# (classified, never stored), and the whole scan's time limit in seconds.
DISCOVERY_SAMPLE_ROWS = env_int("DISCOVERY_SAMPLE_ROWS", 200)
DISCOVERY_TIME_LIMIT_SECONDS = env_int("DISCOVERY_TIME_LIMIT_SECONDS", 120)
# The daily re-scan of every enabled sql connector (hour, UTC); flags new
# personal-looking columns its map lacks.
DISCOVERY_RESCAN_HOUR = env_int("DISCOVERY_RESCAN_HOUR", 4)

# --- Celery ---------------------------------------------------------------
CELERY_BROKER_URL = env_str(
    "CELERY_BROKER_URL", f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# With acks_late a message comes back if it is not acked in time: keep this
# above the longest task (an hour is far above any single connector call).
if CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        # fail fast when the host silently drops traffic (health checks)
        "socket_connect_timeout": 3,
        "socket_timeout": 10,
    }
else:
    # kombu's SQLAlchemy transport hands its options to create_engine().
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fix-up closes the database connection before and after
# every task (a new PostgreSQL backend per task) unless told to reuse it.
# With DATABASE_CONN_MAX_AGE set, workers keep connections as the web does:
# privacydesk.celery closes only old or broken ones around each task.
if DATABASES["default"].get("CONN_MAX_AGE"):
    CELERY_DB_REUSE_MAX = 1_000_000_000
# Fan-out: bounded attempts with exponential back-off and jitter; the sweeper
# re-queues work a dead worker or a lost broker message left behind.
TASK_MAX_ATTEMPTS = env_int("TASK_MAX_ATTEMPTS", 5)
TASK_RETRY_BASE_SECONDS = env_int("TASK_RETRY_BASE_SECONDS", 5)
TASK_RETRY_MAX_SECONDS = env_int("TASK_RETRY_MAX_SECONDS", 600)
TASK_STALE_AFTER_SECONDS = env_int("TASK_STALE_AFTER_SECONDS", 900)
TASK_LOST_AFTER_SECONDS = env_int("TASK_LOST_AFTER_SECONDS", 120)
TASK_SWEEP_SECONDS = env_int("TASK_SWEEP_SECONDS", 30)
# An erasure a store finishes by a date (a vendor's grace period) is checked
# after it; while the store still holds the subject, again this much later.
TASK_WAITING_RECHECK_SECONDS = env_int("TASK_WAITING_RECHECK_SECONDS", 86400)
# Work that keeps no request open waits behind the requests' own tasks: on
# Redis a worker takes priority 0, the default, first (0 is the highest), so a
# busy worker never keeps a request waiting behind the e-mails telling
# subjects that theirs closed, nor behind evidence packs (a PDF each).
CELERY_TASK_ROUTES = {
    "dsr.tasks.send_subject_notice_task": {"priority": 6},
    "breaches.tasks.send_breach_notice_task": {"priority": 6},
    "dsr.tasks.request_closed_task": {"priority": 6},
    "evidence.tasks.evidence_pack_generate_task": {"priority": 9},
    "opendsr.tasks.opendsr_status_changed_task": {"priority": 6},
    "opendsr.tasks.opendsr_callback_deliver_task": {"priority": 6},
}
# What the request lifecycle and retention hand to the apps above them, by
# Celery task name (privacydesk.wiring; they never import those apps): the
# evidence pack of a closed request and of a finished purge run.
# An entry (task, channel) is sent only for requests that came by that
# channel: the OpenDSR door tells its controllers of their requests' changes.
REQUEST_CLOSED_TASKS = [
    "evidence.tasks.evidence_pack_generate_task",
    ("opendsr.tasks.opendsr_status_changed_task", "opendsr"),
]
# A request that starts work (verified -> in_progress): the OpenDSR door tells
# its controller; an erasure shreds the subject's masking vault.
REQUEST_STARTED_TASKS = [
    ("opendsr.tasks.opendsr_status_changed_task", "opendsr"),
    "masking.tasks.masking_request_started_task",
]
PURGE_RUN_ENDED_TASKS = ["evidence.tasks.purge_run_evidence_pack_task"]
# Requests just verified (args: a list of request ids, one message per
# verification or intake batch): erasures and objections exclude the subject
# from model training.
REQUEST_VERIFIED_TASKS = ["training.tasks.training_requests_verified_task"]
# A consent choice applied (args: the subject id); an entry's second part is
# the purpose slug it is sent for, so other purposes cost no message.
TRAINING_CONSENT_PURPOSE = env_str("TRAINING_CONSENT_PURPOSE", "ai_training")
CONSENT_CHANGED_TASKS = [
    ("training.tasks.training_consent_changed_task", TRAINING_CONSENT_PURPOSE)
]
# The most conversation ids, blind indexes or owners one dataset registration
# may list (each list); a larger dataset is registered by a pipeline in parts.
TRAINING_DATASET_MAX_IDS = env_int("TRAINING_DATASET_MAX_IDS", 10_000)
# A priority only orders what is queued; an evidence pack (a second or so of
# CPU) taken by an idle worker still holds it while request tasks arrive. So
# a pack waits, re-queued every BACKGROUND_YIELD_SECONDS, while request tasks
# are queued or running, but never longer than BACKGROUND_MAX_WAIT_SECONDS.
BACKGROUND_YIELD_SECONDS = env_int("BACKGROUND_YIELD_SECONDS", 5)
BACKGROUND_MAX_WAIT_SECONDS = env_int("BACKGROUND_MAX_WAIT_SECONDS", 600)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Every periodic job is declared here, in one place.
CELERY_BEAT_SCHEDULE = {
    "deadline-reminders": {
        "task": "dsr.tasks.deadline_reminders_task",
        "schedule": crontab(minute=0, hour=7),
    },
    "sweep-request-tasks": {
        "task": "dsr.tasks.sweep_request_tasks_task",
        "schedule": float(TASK_SWEEP_SECONDS),
    },
    "sweep-consent-propagations": {
        "task": "consent.tasks.sweep_consent_propagations_task",
        "schedule": float(TASK_SWEEP_SECONDS),
    },
    "purge-idle-masking-vault": {
        "task": "masking.tasks.vault_purge_idle_task",
        "schedule": crontab(minute=45, hour=3),
    },
    "purge-expired-access-packages": {
        "task": "dsr.tasks.purge_expired_access_packages_task",
        "schedule": crontab(minute=30, hour=3),
    },
    "rescan-sql-connectors": {
        "task": "connectors.tasks.discovery_rescan_all_task",
        "schedule": crontab(minute=20, hour=DISCOVERY_RESCAN_HOUR),
    },
    # Each retention policy has its own staff-editable schedule (a
    # django-celery-beat PeriodicTask kept in step by retention.services);
    # this sweep finds runs whose worker died and alerts on them.
    # Opens the next access review once the interval since the last has passed.
    "access-review-due": {
        "task": "audit.tasks.access_review_due_task",
        "schedule": crontab(minute=15, hour=6),
    },
    "sweep-purge-runs": {
        "task": "retention.tasks.sweep_purge_runs_task",
        "schedule": 300.0,
    },
    # Anomaly alerts (alerts app): the rules read the audit events written
    # since the last run; the chain verifier walks the whole chain.
    "evaluate-alert-rules": {
        "task": "alerts.tasks.alerts_evaluate_task",
        "schedule": float(env_int("ALERT_EVALUATE_SECONDS", 60)),
    },
    "verify-audit-chain": {
        "task": "alerts.tasks.audit_chain_check_task",
        "schedule": float(env_int("ALERT_CHAIN_VERIFY_SECONDS", 3600)),
    },
    # A breach's 72-hour clock: the officers are e-mailed at 48 and 24 hours
    # left and when overdue, once each (breaches.services.alerts).
    "breach-clock-warnings": {
        "task": "breaches.tasks.breach_clock_warnings_task",
        "schedule": 300.0,
    },
}

# --- Anomaly alerts (SOC 2 CC7.2, CC7.3) -----------------------------------
# Each rule has a threshold and a window (minutes), read from
# ALERT_<RULE>_THRESHOLD and ALERT_<RULE>_WINDOW_MINUTES, and is switched off
# with ALERT_<RULE>_ENABLED=false. A rule fires when at least `threshold`
# events fall within one window; a burst that goes on extends its alert.
# bulk_download: distinct requests whose packages (access package, its letter,
#   evidence pack, internal copy) one staff user or API client downloaded.
# ip_burst / domain_burst: requests received from one address (keyed hash) or
#   for one e-mail domain (keyed hash) on the channels in
#   ALERT_INTAKE_CHANNELS (the public door by default).
# failed_verifications: wrong or locked-out codes typed for one request.
_ALERT_DEFAULTS = {
    "bulk_download": (5, 15),
    "ip_burst": (5, 60),
    "domain_burst": (20, 60),
    "failed_verifications": (8, 60),
}
ALERT_RULES: dict[str, dict[str, object]] = {
    name: {
        "enabled": env_bool(f"ALERT_{name.upper()}_ENABLED", True),
        "threshold": env_int(f"ALERT_{name.upper()}_THRESHOLD", threshold),
        "window_minutes": env_int(f"ALERT_{name.upper()}_WINDOW_MINUTES", window),
    }
    for name, (threshold, window) in _ALERT_DEFAULTS.items()
}
# off_hours: any staff action outside these local hours (controller's time
# zone) and days; one alert per person and evening.
ALERT_RULES["off_hours"] = {
    "enabled": env_bool("ALERT_OFF_HOURS_ENABLED", True),
    "hours": env_str("ALERT_STAFF_HOURS", "07:00-20:00"),
    "days": env_list("ALERT_STAFF_DAYS", "mon,tue,wed,thu,fri"),
}
# new_scope: an API client using a scope for the first time, once its first
# `learning_hours` of recorded use (its baseline) are over.
ALERT_RULES["new_scope"] = {
    "enabled": env_bool("ALERT_NEW_SCOPE_ENABLED", True),
    "learning_hours": env_int("ALERT_NEW_SCOPE_LEARNING_HOURS", 24),
}
# chain_broken: the scheduled audit-chain verifier found a bad link.
ALERT_RULES["chain_broken"] = {"enabled": env_bool("ALERT_CHAIN_BROKEN_ENABLED", True)}
ALERT_INTAKE_CHANNELS = env_list("ALERT_INTAKE_CHANNELS", "portal")
# Alerts are e-mailed to PRIVACY_OFFICER_EMAILS and, when this is set, POSTed
# as JSON signed with HMAC-SHA256 (X-PrivacyDesk-Timestamp and
# X-PrivacyDesk-Signature, as the http connector signs its jobs).
ALERT_WEBHOOK_URL = env_str("ALERT_WEBHOOK_URL")
ALERT_WEBHOOK_SECRET = env_secret("ALERT_WEBHOOK_SECRET")
ALERT_WEBHOOK_TIMEOUT_SECONDS = env_int("ALERT_WEBHOOK_TIMEOUT_SECONDS", 10)
ALERT_DELIVERY_MAX_ATTEMPTS = env_int("ALERT_DELIVERY_MAX_ATTEMPTS", 6)
if ALERT_WEBHOOK_URL and len(ALERT_WEBHOOK_SECRET) < 16:
    raise ImproperlyConfigured(
        "ALERT_WEBHOOK_SECRET (16 characters or more) must be set with "
        "ALERT_WEBHOOK_URL"
    )

# --- SaaS connectors --------------------------------------------------------
# A SaaS connector's rate budget (shared by every worker) spends its share of
# the vendor's minute in windows this long, so no burst spends it all at
# once; with no Retry-After from the vendor, a 429 is waited out one window.
SAAS_BUDGET_WINDOW_MS = env_int("SAAS_BUDGET_WINDOW_MS", 5000)
# A 5xx or a network error is retried after about this, doubling each time
# (with full jitter).
SAAS_BACKOFF_BASE_MS = env_int("SAAS_BACKOFF_BASE_MS", 500)

# --- Retention -------------------------------------------------------------
# Closed requests keep their evidence but lose the subject's plaintext
# identifiers this many days after closing (CCPA requests: at least 730, the
# 24 months of CCPA regulations section 7101).
SELF_RETENTION_DAYS = env_int("SELF_RETENTION_DAYS", 365)
# A purge batch waits at most this long for a row lock in a store, then the
# run stops as interrupted (and resumes on its next run).
RETENTION_LOCK_TIMEOUT_MS = env_int("RETENTION_LOCK_TIMEOUT_MS", 5000)
# A running purge that has not finished a batch for this long is dead.
RETENTION_RUN_STALE_SECONDS = env_int("RETENTION_RUN_STALE_SECONDS", 900)
# A real run started by staff must be confirmed against a dry run of the same
# policy version that finished at most this many hours ago (issue 16).
RETENTION_CONFIRM_WITHIN_HOURS = env_int("RETENTION_CONFIRM_WITHIN_HOURS", 24)

# --- E-mail ---------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))  # filebased backend
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "privacy@example.com")
PRIVACY_OFFICER_EMAILS = env_list("PRIVACY_OFFICER_EMAILS", "dpo@example.com")

# --- The controller, as the subject is told of it -------------------------
CONTROLLER_NAME = env_str("CONTROLLER_NAME", "Example Support Ltd")
# Where a subject may complain, named per regime in letters, e-mails and the
# dashboard (dsr.regimes.supervisory_authority). GDPR Art. 77: the authority
# of the member state where the subject lives or works, or where the
# infringement took place.
SUPERVISORY_AUTHORITY_GDPR = env_str(
    "SUPERVISORY_AUTHORITY_GDPR",
    "the data protection authority of the EU/EEA country where you live or "
    "work, or where you think the infringement took place (GDPR Art. 77; the "
    "list is at edpb.europa.eu)",
)
SUPERVISORY_AUTHORITY_UK = env_str(
    "SUPERVISORY_AUTHORITY_UK",
    "the Information Commissioner's Office (ICO), ico.org.uk",
)
SUPERVISORY_AUTHORITY_CCPA = env_str(
    "SUPERVISORY_AUTHORITY_CCPA",
    "the California Privacy Protection Agency (cppa.ca.gov), or the California "
    "Attorney General (oag.ca.gov/privacy)",
)
# Non-empty: named for every regime instead of the three above (the setting
# before there was one per regime).
SUPERVISORY_AUTHORITY = env_str("SUPERVISORY_AUTHORITY", "")

# --- Portal ---------------------------------------------------------------
PORTAL_CODE_TTL_MINUTES = env_int("PORTAL_CODE_TTL_MINUTES", 15)
PORTAL_CODE_MAX_ATTEMPTS = env_int("PORTAL_CODE_MAX_ATTEMPTS", 5)
PORTAL_CODE_RESEND_SECONDS = env_int("PORTAL_CODE_RESEND_SECONDS", 60)
PORTAL_LINK_MAX_AGE_DAYS = env_int("PORTAL_LINK_MAX_AGE_DAYS", 90)
PORTAL_SUBMISSIONS_PER_HOUR = env_int("PORTAL_SUBMISSIONS_PER_HOUR", 10)
# CCPA-REG §7062: after the e-mail code, a California requester filing in the
# portal proves who they are with data points matched against the stores (2
# to delete or correct, 3 and a signed declaration for a copy of their data).
# Off by default: the demo's requests are verified by the code alone.
CCPA_DATA_POINT_MATCHING = env_bool("CCPA_DATA_POINT_MATCHING", False)
CCPA_DATA_POINT_ATTEMPTS = env_int("CCPA_DATA_POINT_ATTEMPTS", 3)

# --- Access packages (GDPR Art. 15 and 20) --------------------------------
# A download link works this many days after the subject typed a fresh code.
ACCESS_PACKAGE_LINK_DAYS = env_int("ACCESS_PACKAGE_LINK_DAYS", 7)
# The ZIP holds every record we found: it is deleted this many days after it
# was built (its digest and contents list stay as evidence).
ACCESS_PACKAGE_KEEP_DAYS = env_int("ACCESS_PACKAGE_KEEP_DAYS", 30)
# The masking vault forgets a conversation's tokens this many days after
# their last use (an erasure deletes a customer's at once).
MASKING_VAULT_IDLE_DAYS = env_int("MASKING_VAULT_IDLE_DAYS", 30)
# Art. 20 covers only data the subject provided: the record categories that
# count as provided in a portability export. Empty means every category.
PORTABILITY_CATEGORIES = env_list("PORTABILITY_CATEGORIES")

# --- OpenDSR (Privacy Desk as a processor, /opendsr/v1/) ------------------
# The domain our OpenDSR certificate is issued for, sent in
# X-OpenDSR-Processor-Domain (spec §7.4): by default SITE_URL's host.
OPENDSR_PROCESSOR_DOMAIN = env_str("OPENDSR_PROCESSOR_DOMAIN")
# The PEM private key (RSA) that signs responses and callbacks, and its
# certificate (published by /discovery). Both are required in production;
# in embedded mode a key and a self-signed certificate are made under the
# var dir on first use (the spec forbids self-signed ones between parties).
OPENDSR_SIGNING_KEY_FILE = env_str("OPENDSR_SIGNING_KEY_FILE")
OPENDSR_CERTIFICATE_FILE = env_str("OPENDSR_CERTIFICATE_FILE")
# Where controllers download the certificate; by default our own copy.
OPENDSR_CERTIFICATE_URL = env_str("OPENDSR_CERTIFICATE_URL")
# Status callbacks: attempts per URL and state, and the timeout of each.
OPENDSR_CALLBACK_MAX_ATTEMPTS = env_int("OPENDSR_CALLBACK_MAX_ATTEMPTS", 8)
OPENDSR_CALLBACK_TIMEOUT_SECONDS = env_int("OPENDSR_CALLBACK_TIMEOUT_SECONDS", 10)
# Callback URLs come from controllers: https to public addresses only,
# unless this is true (embedded mode: the demo and tests call back to
# this machine over plain http).
OPENDSR_CALLBACK_ALLOW_LOOPBACK = env_bool("OPENDSR_CALLBACK_ALLOW_LOOPBACK", EMBEDDED)

# --- API ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.BearerTokenAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["audit.api.permissions.HasScopeAudited"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "privacydesk.api_defaults.StrictLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "privacydesk.apikit.exception_handler",
    "DEFAULT_METADATA_CLASS": "privacydesk.api_defaults.SchemaMetadata",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Privacy Desk API",
    "DESCRIPTION": (
        "Data-subject requests, consent and retention for AI customer service."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One schema name per choice set used under several field names.
    "ENUM_NAME_OVERRIDES": {
        "VerificationMethodEnum": "dsr.choices.VerificationMethod",
        "ConsentActionEnum": "consent.choices.ConsentAction",
        "ConnectorActionEnum": "connectors.choices.Action",
        "ConsentChannelEnum": "consent.choices.ConsentChannel",
        "ConsentStateEnum": "consent.choices.ConsentStatus",
        "RequestKindEnum": "dsr.choices.RequestKind",
        "ConnectorKindEnum": "connectors.registry.kind_choices",
        "RequestStatusEnum": "dsr.choices.RequestStatus",
        "TaskStatusEnum": "dsr.choices.TaskStatus",
        "ResultStatusEnum": "connectors.wire.ResultStatus",
        "PurgeRunStatusEnum": "retention.choices.RunStatus",
        "RetentionActionEnum": "retention.choices.PolicyAction",
        "OpenDsrRequestTypeEnum": "connectors.opendsr_protocol.REQUEST_TYPES",
        "OpenDsrIdentityTypeEnum": "connectors.opendsr_protocol.IDENTITY_TYPES",
        "OpenDsrStatusEnum": "connectors.opendsr_protocol.STATUSES",
        "ExclusionReasonEnum": "training.choices.ExclusionReason",
        "PauseReasonEnum": "dsr.choices.PauseReason",
        "ExclusionEntryActionEnum": "training.choices.EntryAction",
    },
}

# --- Static and media -----------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on a missing folder
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Logging: ids only, never personal data -------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # django-axes logs each failed sign-in with the client's address.
    "loggers": {"axes": {"level": "ERROR"}},
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if not EMBEDDED else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
