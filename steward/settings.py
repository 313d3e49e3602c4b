"""Steward settings: one module, every value from the environment through typed helpers.

STEWARD_ENV selects the profile:
- ``development`` (default) and ``demo``: SQLite under var/, eager Celery, a fixed
  insecure secret key, two-factor optional so the printed demo logins just work;
- ``production``: SECRET_KEY and ALLOWED_HOSTS are required, cookies are secure,
  two-factor is mandatory for administrators and the data-protection officer.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from csp.constants import NONCE

from steward.env import ImproperEnvironment, env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("STEWARD_VAR_DIR", str(BASE_DIR / "var")))

STEWARD_ENV = env_choice("STEWARD_ENV", "development", {"development", "demo", "test", "production"})
PRODUCTION = STEWARD_ENV == "production"

DEBUG = env_bool("DEBUG", False)

_INSECURE_KEY = "steward-insecure-development-key-never-use-in-production-0123456789"
SECRET_KEY = env_str("SECRET_KEY", required=PRODUCTION) or _INSECURE_KEY
if PRODUCTION and SECRET_KEY == _INSECURE_KEY:
    raise ImproperEnvironment("SECRET_KEY must not be the development key in production")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperEnvironment("ALLOWED_HOSTS must be set in production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "ninja",
    "core",
    "accounts",
    "vendors",
    "kpis",
    "customers",
    "service",
    "proposals",
]

MIDDLEWARE = [
    "core.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ApiProblemMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.middleware.AuditActorMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "steward.urls"
WSGI_APPLICATION = "steward.wsgi.application"

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
                "core.context_processors.csp_nonce",
                "core.context_processors.navigation",
            ],
        },
    }
]

# --- Database: SQLite under var/ by default, PostgreSQL through DATABASE_URL.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'steward.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the eager task path writes; IMMEDIATE avoids
    # "database is locked" upgrades from read to write inside atomic blocks.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# --- Login throttling (django-axes): lock an account+address after repeated failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# --- Two-factor authentication (TOTP through django-otp).
# Roles whose members must verify a second factor before using Steward.
STEWARD_2FA_REQUIRED_ROLES = env_list(
    "STEWARD_2FA_REQUIRED_ROLES", ["administrator", "data_protection_officer"] if PRODUCTION else []
)
OTP_TOTP_ISSUER = "Steward"

# --- Internationalisation: stored in UTC, shown in Hong Kong time.
LANGUAGE_CODE = "en-hk"
TIME_ZONE = env_str("TIME_ZONE", "Asia/Hong_Kong")
USE_I18N = True
USE_TZ = True

# --- Static files: from installed packages and our own static/, served by whitenoise. No CDN.
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Outside production whitenoise serves straight from the packages' static folders, so a fresh
# checkout (and the test server) needs no collectstatic step.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
# `manage.py backup` writes here (docs/operations.md); keep a copy off the machine too.
BACKUP_DIR = Path(env_str("STEWARD_BACKUP_DIR", str(VAR_DIR / "backups")))

# --- Request size limits: one place, applied to forms and to the API.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
# Largest uploaded file (documents and evidence), checked by core.uploads before anything is stored.
STEWARD_UPLOAD_MAX_BYTES = env_int("STEWARD_UPLOAD_MAX_BYTES", 10 * 1024 * 1024, minimum=1)

# --- Security headers.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
TLS = env_bool("STEWARD_TLS", PRODUCTION)
if TLS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Celery: eager in the embedded default, real workers when a broker is configured.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == ""
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or "")
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Proposals: remind staff of guideline versions they have not acknowledged.
    "proposals-remind-guidelines": {
        "task": "proposals.tasks.remind_guideline_acknowledgements",
        "schedule": 7 * 24 * 3600,
    },
    "verify-audit-chain-nightly": {
        "task": "core.tasks.verify_audit_chain_task",
        "schedule": 24 * 3600,
    },
    # Scorecards: close the last complete week/month/quarter/year (idempotent), open due KPI reviews.
    "kpis-close-due-periods": {
        "task": "kpis.tasks.close_due_periods",
        "schedule": 3600,
    },
    "kpis-schedule-reviews": {
        "task": "kpis.tasks.schedule_kpi_reviews",
        "schedule": 24 * 3600,
    },
    # Vendors: obligation statuses, renewal and notice alerts (120/90/30 days), expiring certificates.
    "vendors-roll-obligations": {
        "task": "vendors.tasks.roll_obligations",
        "schedule": 24 * 3600,
    },
    "vendors-raise-contract-alerts": {
        "task": "vendors.tasks.raise_contract_alerts",
        "schedule": 24 * 3600,
    },
    "vendors-remind-expiring-documents": {
        "task": "vendors.tasks.remind_expiring_documents",
        "schedule": 24 * 3600,
    },
}
# --- v1: cooperation reviews (quarterly business review, annual strategy review) per contract in force.
CELERY_BEAT_SCHEDULE["vendors-schedule-cooperation-reviews"] = {
    "task": "vendors.tasks.schedule_cooperation_reviews",
    "schedule": 24 * 3600,
}

# --- E-mail: console in development and demo.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "steward@localhost")

# --- API.
STEWARD_API_MAX_PAGE_SIZE = env_int("STEWARD_API_MAX_PAGE_SIZE", 200, minimum=1)
STEWARD_API_TOKEN_MAX_DAYS = env_int("STEWARD_API_TOKEN_MAX_DAYS", 365, minimum=1)

# --- Logging: one JSON object per line, each carrying the request id.
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "core.logging.RequestContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601 in UTC, whatever the server's zone
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_context"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# SQLite cannot enforce a unique constraint with NULLs not distinct (vendors' "in-house once per
# function"); PostgreSQL enforces it, and vendors.services.scope_assign checks it on both.
SILENCED_SYSTEM_CHECKS = ["models.W047"]

# A TrueType/OpenType font with Chinese glyphs for PDF exports (a Debian CJK font is found by itself).
STEWARD_PDF_FONT = env_str("STEWARD_PDF_FONT", "")

# --- privacy requests, retention, breaches, data quality (c3) ---
# Data access/correction requests: reminders this many days before the 40-day deadline (s19).
STEWARD_DAR_REMINDER_DAYS = sorted(
    {int(d) for d in env_list("STEWARD_DAR_REMINDER_DAYS", ["14", "7", "2"])}, reverse=True
)
# s28: a fee for an access request may not be excessive; this is the most Steward lets anyone set (HKD).
STEWARD_DAR_FEE_CAP = env_str("STEWARD_DAR_FEE_CAP", "100.00")
# Breach notification is voluntary today; turning this on gives every breach a deadline.
STEWARD_BREACH_NOTIFICATION_MANDATORY = env_bool("STEWARD_BREACH_NOTIFICATION_MANDATORY", False)
STEWARD_BREACH_NOTIFY_DAYS = env_int("STEWARD_BREACH_NOTIFY_DAYS", 5, minimum=1)
STEWARD_DATA_USER_NAME = env_str("STEWARD_DATA_USER_NAME", "Steward Trading (HK) Ltd")
# Self-service links (data quality): how long a link stays valid, and where it points.
STEWARD_SELF_SERVICE_DAYS = env_int("STEWARD_SELF_SERVICE_DAYS", 14, minimum=1)
STEWARD_STALE_MONTHS = env_int("STEWARD_STALE_MONTHS", 24, minimum=1)
CELERY_BEAT_SCHEDULE |= {
    "customers-privacy-reminders": {"task": "customers.tasks.privacy_reminders", "schedule": 24 * 3600},
    "customers-retention-run": {"task": "customers.tasks.retention_run", "schedule": 24 * 3600},
    "customers-quality-run": {"task": "customers.tasks.quality_run", "schedule": 24 * 3600},
}
STEWARD_RETENTION_AUTO_APPLY = env_bool("STEWARD_RETENTION_AUTO_APPLY", False)
STEWARD_SMS_GATEWAY_EMAIL = env_str("STEWARD_SMS_GATEWAY_EMAIL", "")  # e.g. "{number}@sms.example.com"
# SMS (self-service links, marketing sends) go through a pluggable backend, like EMAIL_BACKEND
# (core/sms.py): core.sms.ConsoleBackend, LocmemBackend, EmailGatewayBackend or HttpBackend.
# Default: the console in development and demo (as for e-mail); in production none, which means
# the e-mail gateway when STEWARD_SMS_GATEWAY_EMAIL is set, otherwise no SMS at all.
STEWARD_SMS_BACKEND = env_str(
    "STEWARD_SMS_BACKEND", "" if PRODUCTION or STEWARD_SMS_GATEWAY_EMAIL else "core.sms.ConsoleBackend"
)
STEWARD_SMS_HTTP_URL = env_str("STEWARD_SMS_HTTP_URL", "")
STEWARD_SMS_HTTP_TOKEN = env_str("STEWARD_SMS_HTTP_TOKEN", "")  # or STEWARD_SMS_HTTP_TOKEN_FILE
STEWARD_SMS_HTTP_TIMEOUT = env_int("STEWARD_SMS_HTTP_TIMEOUT", 10, minimum=1)
STEWARD_SMS_SENDER = env_str("STEWARD_SMS_SENDER", "")  # sender id sent to the HTTP provider, if any
# --- service ingest (issue 4 item 1) ---
# Shared secret of the helpdesk webhook (HMAC-SHA256 of the raw body, docs/service.md); empty = off.
STEWARD_HELPDESK_WEBHOOK_SECRET = env_str("STEWARD_HELPDESK_WEBHOOK_SECRET", "")
# --- Service quality: surveys and staff reviews (s3) ---
# Links in e-mails point here (the public survey page needs no login).
STEWARD_PUBLIC_URL = env_str("STEWARD_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# A survey link works for this many days after it is sent, and once.
STEWARD_SURVEY_LINK_DAYS = env_int("STEWARD_SURVEY_LINK_DAYS", 14, minimum=1)
# Customer effort is asked on 1..this; the scale is stored with every answer.
STEWARD_SURVEY_CES_SCALE = env_int("STEWARD_SURVEY_CES_SCALE", 7, minimum=2)
if STEWARD_SURVEY_CES_SCALE > 10:
    raise ImproperEnvironment("STEWARD_SURVEY_CES_SCALE must be 10 or less")
# The scheduled `send_surveys` invites tickets resolved within this many days (older ones are left alone).
STEWARD_SURVEY_INVITE_WITHIN_DAYS = env_int("STEWARD_SURVEY_INVITE_WITHIN_DAYS", 30, minimum=1)
# Below these sample sizes a staff review shows "not enough data" and never judges the figure.
STEWARD_STAFF_REVIEW_MIN_QA = env_int("STEWARD_STAFF_REVIEW_MIN_QA", 3, minimum=1)
STEWARD_STAFF_REVIEW_MIN_CSAT = env_int("STEWARD_STAFF_REVIEW_MIN_CSAT", 10, minimum=1)
CELERY_BEAT_SCHEDULE["service-send-surveys"] = {"task": "service.tasks.send_surveys", "schedule": 3600}
# --- s4 service KPI reports: the monthly report to customer-service managers (1st, 09:00 HKT).
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["service-monthly-kpi-report"] = {
    "task": "service.tasks.send_monthly_service_report",
    "schedule": crontab(minute=0, hour=1, day_of_month="1"),
}

# --- c1: customers' sales activity (issue 7 items 1, 4, 10) ---
# Shared secret of the Shopify order webhook (X-Shopify-Hmac-Sha256); empty refuses every delivery.
# Read from STEWARD_SHOPIFY_WEBHOOK_SECRET_FILE when that is set (like other secrets).
STEWARD_SHOPIFY_WEBHOOK_SECRET = env_str("STEWARD_SHOPIFY_WEBHOOK_SECRET", "")
# Largest NDJSON/CSV file the customer import page and API accept (bytes).
STEWARD_CUSTOMERS_IMPORT_MAX_BYTES = env_int(
    "STEWARD_CUSTOMERS_IMPORT_MAX_BYTES", 200 * 1024 * 1024, minimum=1
)
CELERY_BEAT_SCHEDULE |= {
    # Preferences, RFM, segment membership and the monthly sales rollups, rebuilt set-based nightly.
    "customers-rebuild-metrics": {"task": "customers.tasks.rebuild_customer_metrics", "schedule": 24 * 3600},
    # The monthly sales report to marketing and CRM users (the task sends once per month).
    "customers-monthly-sales-report": {
        "task": "customers.tasks.send_monthly_sales_report",
        "schedule": 24 * 3600,
    },
}
# --- customers: privacy (collection, consent, access log) ---
# Fernet key(s) for HKID numbers, comma-separated, first one encrypts (customers/hkid.py).
STEWARD_FIELD_KEY = env_str("STEWARD_FIELD_KEY", "", required=False)
# Unusual reads of customer records by one user (customers.access_log): alert above these counts.
STEWARD_ACCESS_ALERT_PER_HOUR = env_int("STEWARD_ACCESS_ALERT_PER_HOUR", 200, minimum=1)
STEWARD_ACCESS_ALERT_PER_DAY = env_int("STEWARD_ACCESS_ALERT_PER_DAY", 1000, minimum=1)
CELERY_BEAT_SCHEDULE["customers-unusual-access"] = {
    "task": "customers.tasks.check_unusual_access",
    "schedule": 3600,
}
