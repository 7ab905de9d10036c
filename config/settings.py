"""Rootwatch settings. Every value comes from the environment; see README.md."""

from __future__ import annotations

import ipaddress
import json
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from config.env import env_bool, env_int, env_list, env_str, parse_database_url, parse_redis_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "insecure-development-key-only-used-when-DEBUG-is-on"
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set (a development default exists only with DEBUG=1).")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "history",
    "registry",
    "compliance",
    "audits",
    "distrust",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicy",
    # Before anything reads the request (config/middleware.py says what each refuses).
    "config.middleware.BodySizeLimit",
    "config.middleware.QueryParameterGuard",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.replicas.ReadsOnReplica",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "accounts.context_processors.role",
                "notifications.context_processors.unread",
            ],
        },
    },
]

DATABASES = {"default": parse_database_url(env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'rootwatch.sqlite3'}")}
# A streaming replica of DATABASE_URL for the read-only APIs, feeds and CSV (config/replicas.py says which).
if env_str("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {
        **parse_database_url(env_str("DATABASE_REPLICA_URL"), name="DATABASE_REPLICA_URL"),
        "TEST": {"MIRROR": "default"},  # tests read the replica's alias from the test database
    }
DATABASE_ROUTERS = ["config.replicas.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# SignInThrottle is ModelBackend refusing while an account or an address is paused (before any password is
# checked); first, so sessions and force_login use it. ModelBackend stays for sessions made before.
AUTHENTICATION_BACKENDS = ["accounts.throttling.SignInThrottle", "django.contrib.auth.backends.ModelBackend"]
SIGNIN_MAX_FAILURES = env_int("SIGNIN_MAX_FAILURES", 10)
SIGNIN_WINDOW_SECONDS = env_int("SIGNIN_WINDOW_MINUTES", 15) * 60
PASSWORD_RESET_MAX = env_int("PASSWORD_RESET_MAX", 5)
PASSWORD_RESET_WINDOW_SECONDS = 3600
if SIGNIN_MAX_FAILURES < 1 or SIGNIN_WINDOW_SECONDS < 60 or PASSWORD_RESET_MAX < 1:
    raise ImproperlyConfigured(
        "SIGNIN_MAX_FAILURES and PASSWORD_RESET_MAX must be at least 1, SIGNIN_WINDOW_MINUTES at least 1."
    )
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # The manifest needs collectstatic, which the Dockerfile runs; development and tests serve from finders.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_MANIFEST", False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
    # Incident attachments (compliance.Attachment), served only through their permission-checked download
    # path. By default files under MEDIA_ROOT (so backups take them); a deployment points them at an object
    # store with ATTACHMENTS_STORAGE_BACKEND (e.g. storages.backends.s3.S3Storage) and its options as JSON.
    "attachments": {
        "BACKEND": env_str("ATTACHMENTS_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": json.loads(env_str("ATTACHMENTS_STORAGE_OPTIONS", "{}") or "{}"),
    },
}
# The largest attachment accepted (bytes), on the page and through /rest/.
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)

# HTTPS hardening: on by default outside DEBUG, so `check --deploy` is clean in production.
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# Whose X-Forwarded-For is believed (config/proxies.py): only a peer in TRUSTED_PROXIES, and only
# TRUSTED_PROXY_COUNT hops from the right; a client reaching the app directly is its own address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if BEHIND_PROXY else 0)
TRUSTED_PROXIES = env_list(
    "TRUSTED_PROXIES", ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
)
if not 0 <= TRUSTED_PROXY_COUNT <= 10:
    raise ImproperlyConfigured(f"TRUSTED_PROXY_COUNT={TRUSTED_PROXY_COUNT} must be between 0 and 10.")
for _network in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_network!r} is not an address or network (write e.g. 10.0.0.0/8,192.0.2.7)."
        ) from None
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Every response (config.middleware.ContentSecurityPolicy): scripts and stylesheets from this site
# only, no inline script anywhere. style-src-attr allows style="" attributes (the audit timeline
# places its bars by percentage); they cannot run code.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-elem 'self'; "
    "style-src-attr 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# /api/v1/redoc/ only (config.views.ApiRedocView): Redoc's styled-components insert <style> elements
# and its search runs in a blob: worker. Scripts are still 'self' only.
CONTENT_SECURITY_POLICY_REDOC = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SESSION_COOKIE_HTTPONLY = True

# Request bodies, refused from their Content-Length before being read (413): multipart uploads may
# carry a 25 MB audit statement PDF; every other body (API JSON, forms) is small.
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 1024 * 1024)
MAX_UPLOAD_BODY_BYTES = env_int("MAX_UPLOAD_BODY_BYTES", 26 * 1024 * 1024)
if MAX_REQUEST_BODY_BYTES < 1024 or MAX_UPLOAD_BODY_BYTES < MAX_REQUEST_BODY_BYTES:
    raise ImproperlyConfigured(
        "MAX_REQUEST_BODY_BYTES must be at least 1024, and MAX_UPLOAD_BODY_BYTES at least MAX_REQUEST_BODY_BYTES."
    )
# Form fields other than files: Django's own check, the same figure.
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

# E-mail
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Rootwatch <rootwatch@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: with REDIS_URL unset, tasks run eagerly in the web process (the embedded default).
REDIS_URL = env_str("REDIS_URL") or None
if REDIS_URL:
    parse_redis_url(REDIS_URL)
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Every queue a task is routed to. A worker started without -Q (as the Makefile and docker-compose
# start it) consumes all of these, so no routed task waits in Redis for a worker that never comes.
CELERY_TASK_QUEUES = [Queue("default"), Queue("notifications")]
CELERY_TASK_ROUTES = {
    "accounts.tasks.*": {"queue": "default"},
    "registry.tasks.*": {"queue": "default"},
    "compliance.tasks.*": {"queue": "default"},
    "audits.tasks.*": {"queue": "default"},
    "distrust.tasks.*": {"queue": "default"},
    "notifications.tasks.*": {"queue": "notifications"},
}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# A task a killed worker had taken (acks_late) goes back to the queue after this many seconds
# (Redis's visibility timeout; Celery's default is an hour). Notification sends are claimed with a
# compare-and-set, so a task delivered twice never mails twice; a claim its worker never finished is
# released by the next sweep after NOTIFICATION_STALE_CLAIM_SECONDS.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "UTC"
# Each app adds its periodic jobs here, next to one another, so the whole schedule is readable in one place.
CELERY_BEAT_SCHEDULE: dict = {}
# Notifications: the deadline sweep (minutes, NOTIFICATION_SWEEP_MINUTES) and the daily digest (UTC hour).
NOTIFICATION_SWEEP_MINUTES = env_int("NOTIFICATION_SWEEP_MINUTES", 15)
NOTIFICATION_DIGEST_HOUR = env_int("NOTIFICATION_DIGEST_HOUR", 7)
NOTIFICATION_STALE_CLAIM_SECONDS = env_int("NOTIFICATION_STALE_CLAIM_SECONDS", 120)
if NOTIFICATION_STALE_CLAIM_SECONDS < 3 * EMAIL_TIMEOUT:
    raise ImproperlyConfigured("NOTIFICATION_STALE_CLAIM_SECONDS must be at least 3 x EMAIL_TIMEOUT, or a slow "
                               "but live SMTP conversation could be taken over and its mail sent twice.")
if not 60 <= CELERY_VISIBILITY_TIMEOUT <= 43200:
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must be between 60 and 43200 seconds.")
if not 1 <= NOTIFICATION_SWEEP_MINUTES <= 1440:
    raise ImproperlyConfigured("NOTIFICATION_SWEEP_MINUTES must be between 1 and 1440.")
if not 0 <= NOTIFICATION_DIGEST_HOUR <= 23:
    raise ImproperlyConfigured("NOTIFICATION_DIGEST_HOUR must be between 0 and 23.")
CELERY_BEAT_SCHEDULE["notifications-sweep"] = {
    "task": "notifications.tasks.sweep",
    "schedule": timedelta(minutes=NOTIFICATION_SWEEP_MINUTES),
}
CELERY_BEAT_SCHEDULE["notifications-digest"] = {
    "task": "notifications.tasks.digest",
    "schedule": crontab(minute=0, hour=NOTIFICATION_DIGEST_HOUR),
}

REST_FRAMEWORK = {
    # `Authorization: Token <key>` first: its scheme is what a 401 names in WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # API-wide: a read-only key may only read; each view adds its own rules from accounts.permissions.
    "DEFAULT_PERMISSION_CLASSES": ["accounts.authentication.ApiKeyScope"],
    "DEFAULT_PAGINATION_CLASS": "config.api.ApiPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["config.api.StrictOrderingFilter"],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.ApiRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%SZ",
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Rootwatch API",
    "DESCRIPTION": (
        "Root store program compliance: CAs, certificates, incidents, audits, active distrust.\n\n"
        "Authenticate with `Authorization: Token <key>` (create keys on your account page); a key acts "
        "with its user's permissions, optionally read-only. Lists are paged (`page`, `page_size`, with "
        "`count`); times are ISO-8601 UTC; every error is JSON `{\"error\", \"detail\"}` with a message "
        "that says what to fix. Rate limits apply per key and per address (429 with Retry-After). "
        "A Bugzilla-compatible read-only API is served under `/rest/`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Separate request and response components, so read-only fields are not asked of clients.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.add_error_responses",
    ],
    # One stable name per choice set that several apps call "kind", "source" or "state".
    "ENUM_NAME_OVERRIDES": {
        "CertificateKindEnum": "registry.models.Certificate.Kind",
        "TrustCodeEnum": "registry.models.RootStoreEntry.Trust",
        "IncidentSourceEnum": "compliance.models.Incident.Source",
        # The incident API's inputs list the same values without labels.
        "IncidentSourceInputEnum": ["self_reported", "third_party", "audit"],
        "StatementKindEnum": "audits.models.AuditStatement.Kind",
        "StatementSourceEnum": "audits.models.AuditStatement.Source",
        "DistrustKindEnum": "distrust.models.DistrustAction.Kind",
        "DistrustStateEnum": "distrust.models.DistrustAction.State",
        "ReleaseKindEnum": "registry.models.Release.Kind",
        "ReleaseStatusEnum": "registry.models.Release.Status",
        "CAOwnerStatusEnum": "registry.models.CAOwner.Status",
        "TrustSettingEnum": "registry.serializers_releases._TRUST",
    },
}

# REST clients: rate limits ("<count>/<second|minute|hour|day>", empty for none), counted in the
# "api_throttle" cache: Redis when REDIS_URL is set, so all web processes share the counts.
API_RATE_LIMITS = {
    "key": env_str("API_RATE_PER_KEY", "2000/hour"),
    "address": env_str("API_RATE_PER_ADDRESS", "300/minute"),
}
for _name, _rate in (("API_RATE_PER_KEY", API_RATE_LIMITS["key"]), ("API_RATE_PER_ADDRESS", API_RATE_LIMITS["address"])):
    _count, _, _period = (_rate or "").partition("/")
    if _rate and not (_count.isdigit() and int(_count) > 0 and _period in ("second", "minute", "hour", "day")):
        raise ImproperlyConfigured(f"{_name}={_rate!r} is not a rate: write e.g. 300/minute (second, minute, hour, day).")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api_throttle": (
        # Short socket timeouts: the limiter fails open (accounts.throttling.fail_open) rather than
        # holding a request while Redis refuses or hangs.
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "rw-throttle",
         "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rw-throttle"}
    ),
}
# The Bugzilla-compatible API: results per search when the client gives no limit, and at most.
BUGZILLA_DEFAULT_LIMIT = env_int("BUGZILLA_DEFAULT_LIMIT", 500)
BUGZILLA_MAX_LIMIT = env_int("BUGZILLA_MAX_LIMIT", 10000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A /rest/ client's api_key in a URL never reaches a log line (config/redaction.py).
    "filters": {"redact_secrets": {"()": "config.redaction.RedactSecrets"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_secrets"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Django's own handlers (runserver's request lines, error mails) would bypass that filter:
    # their records go to the root's console instead.
    "loggers": {
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
    },
}
