"""One settings module, driven by the environment (12-factor).

With nothing set the app runs on an embedded SQLite database with background tasks executed
in-process, so a newcomer sees it work at once. With ``DATABASE_URL`` and
``CELERY_BROKER_URL`` it runs on PostgreSQL, Redis and Celery workers, as in CI and in
production. ``SST_ENVIRONMENT=production`` switches on the strict checks: required secrets,
secure cookies, HSTS, manifest static files.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

SST_ENVIRONMENT = env.str("SST_ENVIRONMENT", default="development")
if SST_ENVIRONMENT not in {"development", "test", "production"}:
    raise ImproperlyConfigured("SST_ENVIRONMENT must be development, test or production")
PRODUCTION = SST_ENVIRONMENT == "production"

# Never on by default: Django's debug pages show local variables, which may hold personal data.
DEBUG = env.bool("DJANGO_DEBUG", default=False)

_DEV_SECRET = "insecure-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="" if PRODUCTION else _DEV_SECRET)
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production")

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"],
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "guardian",
    "axes",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "simple_history",
    "sst",
    "attendance",
    "cases",
    "referrals",
    "actionplans",
    "followup",
    "reports",
]

MIDDLEWARE = [
    "sst.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "sst.middleware.NoStoreForSignedInMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "sst.middleware.AccessPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sst.urls"
WSGI_APPLICATION = "sst.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sst.context_processors.shell",
            ],
        },
    },
]

if "DATABASE_URL" not in os.environ:
    # The embedded database lives in var/: create it, so `manage.py migrate` works on a fresh
    # clone without `make demo` (README, "Demo users").
    VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'sst.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "sst.User"

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username/IP before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "sst:login"
LOGIN_REDIRECT_URL = "sst:desk"
LOGOUT_REDIRECT_URL = "sst:login"

# Sessions end after inactivity (sliding window) and when the browser closes.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = False
# security.W021 asks for HSTS preload. Preloading commits the municipality's whole domain and
# every subdomain to HTTPS in browsers for months and cannot be undone quickly: that is the
# municipality's decision for its domain, not this application's.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts, styles, fonts and requests from this origin
# only, never inline (no <script> blocks, event-handler or style attributes in templates:
# tests/sst/test_headers.py checks both). Bootstrap's CSS draws a few icons as data: images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_NONE],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF],
        "img-src": [CSP_SELF, "data:"],
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
        "base-uri": [CSP_NONE],
        "object-src": [CSP_NONE],
    }
}
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Login throttling (django-axes): five failures lock the username from that address.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=1 if PRODUCTION else 0)

# Two-factor authentication (TOTP). Roles listed here must verify a second factor; "*" = all.
OTP_REQUIRED_ROLES = env.list("OTP_REQUIRED_ROLES", default=["administrator"])
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="SST")

# Personal identity numbers: encrypted at rest (Fernet, newest key first), with a keyed hash
# beside them for exact lookup. See docs/OPERATIONS.md for key rotation.
_DEV_PNR_KEY = "ZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcmVhbC1kYXRh"
PERSONNUMMER_KEYS = env.list("PERSONNUMMER_KEYS", default=[] if PRODUCTION else [_DEV_PNR_KEY])
PERSONNUMMER_HASH_KEY = env.str(
    "PERSONNUMMER_HASH_KEY", default="" if PRODUCTION else "development-hash-key"
)
if PRODUCTION and (not PERSONNUMMER_KEYS or not PERSONNUMMER_HASH_KEY):
    raise ImproperlyConfigured("PERSONNUMMER_KEYS and PERSONNUMMER_HASH_KEY must be set")

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Scanned consent forms and other documents about students: outside the web root, never
# served by the static server, read only through a view that asks the access policy and
# audits the read. An S3-compatible store is a settings change (django-storages' backend
# and its OPTIONS under "private").
PRIVATE_FILES_DIR = env.str("PRIVATE_FILES_DIR", default=str(VAR_DIR / "private"))
# The largest consent scan accepted (referrals/uploads.py).
CONSENT_SCAN_MAX_MB = env.float("CONSENT_SCAN_MAX_MB", default=10.0)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_FILES_DIR, "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production whitenoise serves straight from the app folders (no collectstatic).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
ANONYMOUS_USER_NAME = None  # no guardian anonymous user: anonymous visitors get nothing

# Caches: progress of background imports is shared through the cache, so production (several
# processes) needs a shared one: CACHE_URL=redis://redis:6379/1.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://sst")}

# Term reports made in the background (reports/runs.py): kept for their requester this many
# days in the private store, then deleted; a run is stopped past the time limit (seconds)
# or when the worker's memory grows past the cap (MB).
REPORT_KEEP_DAYS = env.int("REPORT_KEEP_DAYS", default=7)
REPORT_TIME_LIMIT_SECONDS = env.int("REPORT_TIME_LIMIT_SECONDS", default=10 * 60)
REPORT_MEMORY_CAP_MB = env.int("REPORT_MEMORY_CAP_MB", default=1024)

# Uploaded import files wait here for the background task; refused above this size.
IMPORT_UPLOAD_DIR = env.str("IMPORT_UPLOAD_DIR", default=str(VAR_DIR / "imports"))
IMPORT_MAX_UPLOAD_MB = env.int("IMPORT_MAX_UPLOAD_MB", default=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024  # larger uploads stream to a temporary file

# Celery: with no broker configured, tasks run in-process (eagerly).
_BROKER = env.str("CELERY_BROKER_URL", default="")
CELERY_BROKER_URL = _BROKER or "memory://"
CELERY_TASK_ALWAYS_EAGER = not _BROKER
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=_BROKER or None)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A task is acknowledged when it ends, and a task whose pool process dies (killed, out of
# memory) goes straight back to the queue for a live worker; the import run counts the
# attempts and gives up after IMPORT_MAX_ATTEMPTS (docs/OPERATIONS.md, "When a worker dies").
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The hard limit stays below Redis's visibility timeout, so a message is never handed to a
# second worker while the first still runs it; a whole-worker crash comes back within it
# (the import watchdog re-queues the run much sooner).
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=20 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - min(60, CELERY_TASK_TIME_LIMIT // 10)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=30 * 60)
}
# Worker database sessions (sst/celery.py): a backend whose worker died notices within
# WORKER_CONNECTION_CHECK_SECONDS and rolls back, releasing its locks; no statement runs
# past the task's soft limit and no lock is waited for longer than WORKER_LOCK_TIMEOUT_SECONDS.
WORKER_CONNECTION_CHECK_SECONDS = env.int("WORKER_CONNECTION_CHECK_SECONDS", default=2)
WORKER_LOCK_TIMEOUT_SECONDS = env.int("WORKER_LOCK_TIMEOUT_SECONDS", default=5 * 60)
WORKER_STATEMENT_TIMEOUT_SECONDS = CELERY_TASK_SOFT_TIME_LIMIT
# Import runs: attempts before a run that keeps losing its worker is failed; the heartbeat
# of a running import, and how old it may grow before the run counts as abandoned.
IMPORT_MAX_ATTEMPTS = env.int("IMPORT_MAX_ATTEMPTS", default=3)
IMPORT_HEARTBEAT_SECONDS = env.float("IMPORT_HEARTBEAT_SECONDS", default=10)
IMPORT_HEARTBEAT_STALE_SECONDS = env.int("IMPORT_HEARTBEAT_STALE_SECONDS", default=60)
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(VAR_DIR / "celerybeat-schedule")
)

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="sst@localhost")
# The address people reach the app at, for links in e-mail notices.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Error reports never carry request data: it may be about a child.
DEFAULT_EXCEPTION_REPORTER_FILTER = "sst.logging.NoPersonalDataReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "sst.logging.RequestIdFilter"},
        "scrub": {"()": "sst.logging.PersonnummerScrubFilter"},
    },
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "scrub"],
            "formatter": "plain",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
