"""Settings for Outer Loop. Every deploy-specific value comes from the environment (see README)."""

import os
from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONCE, NONE, SELF

from outerloop.env import (
    env_base_url,
    env_bool,
    env_choice,
    env_database,
    env_email,
    env_int,
    env_list,
    env_redis_url,
    env_required,
    env_str,
    secret_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("OUTERLOOP_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = secret_key("SECRET_KEY", VAR_DIR / "secret_key")

# The public origin used in links, QR codes and emails; unset, where gunicorn listens
# (WEB_BIND, as the Procfile passes it to gunicorn, with the same default).
WEB_BIND_DEFAULT = "127.0.0.1:8000"
OUTERLOOP_BASE_URL = env_base_url("OUTERLOOP_BASE_URL", "WEB_BIND", WEB_BIND_DEFAULT)
_base = urlsplit(OUTERLOOP_BASE_URL)
HTTPS = _base.scheme == "https"

ALLOWED_HOSTS = [_base.hostname, *env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])]
CSRF_TRUSTED_ORIGINS = [OUTERLOOP_BASE_URL]

INSTALLED_APPS = [
    "django.contrib.admin",
    # Before django.contrib.auth: its management commands (createsuperuser) win over auth's.
    "outerloop",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "ninja",
    "django.forms",
    "django_htmx",
    "template_partials",
    "anymail",
    "sessions.apps.BuildSessionsConfig",
    "reactions",
]

MIDDLEWARE = [
    # First: a request to a preview host is answered there and returns, so no middleware that
    # reads or sets a cookie ever runs for it (sessions/serving.py), with the widget's
    # endpoints under /__outerloop/ (reactions/widget.py).
    "reactions.widget.HostedWidgetMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A live page's poll when nothing changed: an empty 304 from the cache, before the
    # user is loaded (reactions/live.py).
    "reactions.live.UnchangedPollMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "outerloop.middleware.BuilderTimeZoneMiddleware",
    "outerloop.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "outerloop.middleware.HtmxLoginRedirectMiddleware",
]

ROOT_URLCONF = "outerloop.urls"
WSGI_APPLICATION = "outerloop.wsgi.application"

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
                "outerloop.context_processors.csp_nonce",
            ],
        },
    },
]

# Our templates/django/forms/ override Django's form templates (labels without a colon).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# PostgreSQL cancels a statement that runs longer than this, so a request fails in seconds
# instead of holding its worker until gunicorn kills it (30 s). Celery workers get their task
# time limit instead, and `migrate` none (outerloop/database.py). 0 turns it off.
DATABASE_STATEMENT_TIMEOUT = env_int("DATABASE_STATEMENT_TIMEOUT", 5, minimum=0)
DATABASES = {
    "default": env_database(
        "DATABASE_URL", VAR_DIR / "db.sqlite3", statement_timeout=DATABASE_STATEMENT_TIMEOUT
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "outerloop.Builder"
LOGIN_URL = "outerloop:login"
LOGIN_REDIRECT_URL = "outerloop:dashboard"
LOGOUT_REDIRECT_URL = "outerloop:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    # Hosted previews' files (sessions/hosted.py): never served from the app's origin.
    "previews": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "previews"},
    },
}

# Security: everything that HTTPS makes possible is on when the public origin is https.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Strict enough that an injected <script> or inline handler cannot run: scripts and styles come
# from our origin, or carry the response's nonce. A framed preview adds its own origin per page.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-src": [NONE],
        "frame-ancestors": [NONE],
    }
}
# Nothing a recipient or builder posts is bigger than this; larger bodies get a clean 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
# None when unset: an https deploy that never said whether a proxy terminates TLS gets a
# start-up warning (checks.check_proxy), since a proxy there means a redirect loop.
OUTERLOOP_BEHIND_PROXY = env_bool("OUTERLOOP_BEHIND_PROXY", None)
if OUTERLOOP_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

# Cache and Celery: Redis when REDIS_URL is set; otherwise nothing to install.
# No task is scheduled further ahead than this (Redis redelivers unacked messages after it).
CELERY_VISIBILITY_TIMEOUT = 7200
REDIS_URL = env_redis_url("REDIS_URL")
# Put before every key the cache and the broker write, so several instances (or test runs)
# can share one Redis database without reading or clearing each other's keys.
REDIS_KEY_PREFIX = env_str("REDIS_KEY_PREFIX", "")
# A Redis host that stops answering fails a cache call in half a second (rate limits then
# fail open) instead of hanging the request.
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
REDIS_BROKER_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # A publish gives up after a second when Redis hangs (without a socket timeout it waits
    # forever) and at once when it is down (kombu would retry for 6 s, in the request): the
    # row is saved, a sweep queues it later (common.queue). The worker's BRPOP is not
    # bound by the socket timeout, and its consumer reconnects on its own.
    "socket_timeout": 1,
    "socket_connect_timeout": 1,
    "max_retries": 0,
}
if REDIS_KEY_PREFIX:
    REDIS_BROKER_OPTIONS["global_keyprefix"] = f"{REDIS_KEY_PREFIX}:"
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "common.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_BROKER_OPTIONS
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
# Live pages answer an unchanged poll from change versions in the cache (common.changes,
# reactions/live.py): only when every process (web workers, Celery) shares that cache, so
# with Redis; a process-local cache would miss the other processes' writes.
OUTERLOOP_LIVE_CACHE = bool(REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The worker kills a task still running at the hard limit; an email claim's lease is twice it.
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 60, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 90, minimum=2)
CELERY_TIMEZONE = "UTC"
CELERY_TASK_PUBLISH_RETRY = False
# Celery's Django fixup (5.6 and later) closes the worker's database connection before and
# after every task unless this is set: a PostgreSQL backend started for each email, about
# 2.5 ms of the machine's CPU a reaction in `make bench`. Set, it closes them every 1,000
# tasks, and outerloop.celery checks them before each task as Django does before each request
# (CONN_MAX_AGE, health) and drops them after a task that failed, which a time limit may have
# cut mid-query. SQLite's CONN_MAX_AGE is 0: there the check closes it before each task.
CELERY_DB_REUSE_MAX = 1000
CELERY_BEAT_SCHEDULE = {
    "expire-sweep": {
        "task": "reactions.tasks.expire_sweep",
        "schedule": 60,
        "options": {"expires": 55},
    },
    "outbox-sweep": {
        "task": "reactions.tasks.outbox_sweep",
        "schedule": 60,
        "options": {"expires": 55},
    },
    "claims-sweep": {
        "task": "outerloop.tasks.claims_sweep",
        "schedule": 60,
        "options": {"expires": 55},
    },
    "nudge-tick": {
        "task": "outerloop.tasks.nudge_tick",
        "schedule": 300,
        "options": {"expires": 290},
    },
    "review-tick": {
        "task": "outerloop.tasks.review_tick",
        "schedule": 300,
        "options": {"expires": 290},
    },
    # Hosted builds' files past OUTERLOOP_HOSTED_KEEP (days): no hurry, and each run may
    # delete many files.
    "build-sweep": {
        "task": "sessions.tasks.build_sweep",
        "schedule": 600,
        "options": {"expires": 590},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Email: console by default; any Anymail ESP by EMAIL_BACKEND plus its ANYMAIL_* variables.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# Seconds an SMTP conversation may stall (only workers send email; Anymail's HTTP backends
# have their own 30 s ANYMAIL_REQUESTS_TIMEOUT), well inside the task's soft time limit.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
# Where django.core.mail.backends.filebased.EmailBackend writes, one file per email.
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_")
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Outer Loop <loop@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The product.
OUTERLOOP_PREVIEW_TTL = env_int("OUTERLOOP_PREVIEW_TTL", 3600, minimum=60)
# Where publish requests go; unset, publishing is off (and says so).
OUTERLOOP_OPERATOR_EMAIL = env_email("OUTERLOOP_OPERATOR_EMAIL")
# Hosted previews: each uploaded build is served at <label>.<OUTERLOOP_PREVIEW_DOMAIN>, an
# origin of its own (sessions/hosted.py). The default suits `make run`: browsers resolve every
# *.localhost name to this machine. Production needs a wildcard DNS record and certificate.
OUTERLOOP_PREVIEW_DOMAIN = env_str(
    "OUTERLOOP_PREVIEW_DOMAIN",
    f"preview.localhost:{_base.port}" if _base.port else "preview.localhost",
).lower()
# Every preview host (the domain's name without its port, and below it), only for
# sessions.serving's middleware, which answers them before the app sees them.
ALLOWED_HOSTS.append("." + urlsplit(f"//{OUTERLOOP_PREVIEW_DOMAIN}").hostname)
# Seconds a build's files stay after its last preview expired (renewal reuses them).
OUTERLOOP_HOSTED_KEEP = env_int("OUTERLOOP_HOSTED_KEEP", 7 * 24 * 3600, minimum=0)
# Limits on uploaded builds (sessions/builds.py), in bytes and files, each measured while
# unpacking, never read from a zip's headers. A typical SPA build (Vite, Next's `out/`) is
# 1-10 MB in a few dozen to a few hundred files; the limits leave room for images, fonts and
# a wasm module while keeping one upload's disk and CPU cost (and a zip bomb's) small.
OUTERLOOP_HOSTED_MAX_UPLOAD = env_int("OUTERLOOP_HOSTED_MAX_UPLOAD", 50 * 1024**2, minimum=1)
# The sum of a builder's builds whose files are still kept: ten full uploads.
OUTERLOOP_HOSTED_MAX_BUILDER = env_int("OUTERLOOP_HOSTED_MAX_BUILDER", 500 * 1024**2, minimum=1)
OUTERLOOP_HOSTED_MAX_FILES = env_int("OUTERLOOP_HOSTED_MAX_FILES", 5000, minimum=1)
OUTERLOOP_HOSTED_MAX_FILE = env_int("OUTERLOOP_HOSTED_MAX_FILE", 25 * 1024**2, minimum=1)
# Builds a builder may upload in an hour (API and dashboard together, kept or refused): each
# keeps a web worker busy for up to seconds (a zip of thousands of small files: ~6 s).
OUTERLOOP_HOSTED_UPLOADS_PER_HOUR = env_int("OUTERLOOP_HOSTED_UPLOADS_PER_HOUR", 20, minimum=1)
# Where hosted builds' files live: "filesystem" (under OUTERLOOP_VAR_DIR/previews, one
# machine) or "s3" (any S3-compatible service through django-storages, so several web
# machines share them).
OUTERLOOP_PREVIEW_STORAGE = env_choice(
    "OUTERLOOP_PREVIEW_STORAGE", "filesystem", {"filesystem", "s3"}
)
if OUTERLOOP_PREVIEW_STORAGE == "s3":
    STORAGES["previews"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_required("OUTERLOOP_PREVIEW_S3_BUCKET"),
            # Unset: AWS itself; set for MinIO, R2, Backblaze, Scaleway… (https://host:port).
            "endpoint_url": env_str("OUTERLOOP_PREVIEW_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("OUTERLOOP_PREVIEW_S3_REGION", "") or None,
            # Unset: boto3's own chain (AWS_ACCESS_KEY_ID…, ~/.aws, an instance role).
            "access_key": env_str("OUTERLOOP_PREVIEW_S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("OUTERLOOP_PREVIEW_S3_SECRET_ACCESS_KEY", "") or None,
            # Private objects: only the app reads them, and serves them at the preview's origin.
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": True,
            # Bytes of an object read into memory before S3File spills it to a temporary file
            # on disk (django-storages' default, 0, never spills: a 20 MB video served whole
            # from memory, even for a 1-byte Range).
            "max_memory_size": 1024**2,
        },
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
