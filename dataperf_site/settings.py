"""The one settings module. Every difference between environments is an environment variable (README)."""

from __future__ import annotations

from pathlib import Path

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from dataperf_site.env import database_from_url, env_bool, env_int, env_list, env_path, env_str

# Lets admin and form classes be subscripted with their model types at run time, as the type stubs expect.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_path("DATAPERF_VAR_DIR", BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)
_DEV_SECRET = "insecure-development-key-never-use-in-production"  # noqa: S105 - refused below unless DEBUG
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set unless DEBUG=1")
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured("refusing to run with the development SECRET_KEY while DEBUG is off")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apps.core",
    "apps.accounts",
    "apps.challenges",
    "apps.divisions",
    "apps.submissions",
    "apps.leaderboards",
    "apps.ratchets",
    "apps.jobs",
    "apps.backoffice",
    "apps.demo",
    "apps.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.ContentSecurityPolicyMiddleware",
    "apps.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "dataperf_site.urls"
WSGI_APPLICATION = "dataperf_site.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'dataperf.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if str(DATABASES["default"]["ENGINE"]).endswith("sqlite3"):
    # A file, not memory, so that worker processes started by the end-to-end tests see the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "challenges:list"
LOGOUT_REDIRECT_URL = "challenges:list"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production serves hashed, compressed files collected by `collectstatic`.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEBUG)
STATIC_ROOT = env_path("STATIC_ROOT", VAR_DIR / "staticfiles")
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(env_path("MEDIA_ROOT", VAR_DIR / "media"))},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Without a manifest (development, tests) WhiteNoise serves straight from the static folders.
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
# Task data (public and hidden) and uploaded artifacts live outside MEDIA_URL: there is no URL that serves a
# file by path. Public task files are streamed by a view that checks registration; hidden ones never are.
MEDIA_ROOT = str(env_path("MEDIA_ROOT", VAR_DIR / "media"))
TASK_DATA_ROOT = env_path("TASK_DATA_ROOT", VAR_DIR / "taskdata")

# Uploads: bodies above this size go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The largest upload any request may carry (task data archives in the admin are the largest), refused from its
# Content-Length before a byte is read, and stopped as it streams in. Submissions are held to their task's
# `max_upload_bytes` the same way (apps.core.uploads).
DATA_UPLOAD_MAX_BYTES = env_int("DATA_UPLOAD_MAX_MB", 4096, minimum=1) * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "apps.core.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
SUBMISSION_SYNC_VALIDATION_MAX_BYTES = env_int("SUBMISSION_SYNC_VALIDATION_MAX_BYTES", 5 * 1024 * 1024)

# --- Celery ---------------------------------------------------------------------------------------------
_BROKER_DIR = env_path("BROKER_DIR", VAR_DIR / "broker")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = (
    {
        "data_folder_in": str(_BROKER_DIR / "out"),
        "data_folder_out": str(_BROKER_DIR / "out"),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
        # The file-system transport polls its folder; 1 s (its default) would dominate submit-to-ranked.
        "polling_interval": 0.2,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60)}
)
# The embedded defaults keep their files under VAR_DIR; make the folders so a fresh clone just works.
for _folder in (VAR_DIR, STATIC_ROOT, _BROKER_DIR / "out", _BROKER_DIR / "control"):
    _folder.mkdir(parents=True, exist_ok=True)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_DEFAULT_QUEUE = "evaluate"
# `sandbox` runs closed-division code: its workers may live on separate hosts (they need bubblewrap, the
# database, the broker and the storage, never the web settings' secrets beyond those).
# `maintenance` carries beat's reaper and nothing else, and every worker the platform starts consumes it (a test
# checks the command lines): on a queue of its own a reap waits only for a free pool slot, never behind a backlog
# of validations (a worker takes its queues in turn: kombu rotates them after each message).
# `long` carries background jobs of several minutes that are not evaluations (exports: up to 10 minutes), so
# that they never hold the slots of the quick `validate` queue (apps.core.queues.SENT_TO names each task's queue).
MAINTENANCE_QUEUE = "maintenance"
CELERY_TASK_QUEUES = (
    Queue("validate"),
    Queue("evaluate"),
    Queue("sandbox"),
    Queue("long"),
    Queue(MAINTENANCE_QUEUE),
)
CELERY_TASK_ROUTES = {
    "dataperf.reap_submissions": {"queue": MAINTENANCE_QUEUE},
    "dataperf.export_submissions": {"queue": "long"},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Unless this is set, Celery's Django fix-up closes every database connection around each task (a new PostgreSQL
# backend per submission). Connections are kept across tasks and closed as Django closes them between requests,
# past DATABASE_CONN_MAX_AGE or when broken (dataperf_site/celery.py); the fix-up closes them every this many tasks.
CELERY_DB_REUSE_MAX = 1000
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Every worker's pool: Celery's prefork pool, with locks a killed pool process cannot leak (on the embedded broker,
# one SIGKILL at the wrong moment otherwise stopped every later evaluation; dataperf_site/worker_pool.py).
CELERY_WORKER_POOL = "dataperf_site.worker_pool:TaskPool"
# Liveness (dataperf_site/liveness.py): every WORKER_HEARTBEAT_SECONDS a worker checks that its consumer loop turns and
# that it takes the messages that wait (none waits WORKER_STALL_SECONDS while it has a free pool process), and only
# then feeds its watchdogs (the `make run` supervisor's heartbeat file, systemd's WATCHDOG=1) and says so in the
# back office. A warm shutdown still running after WORKER_SHUTDOWN_SECONDS becomes a cold one (its unfinished
# messages go back to the broker, or to the reaper).
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 5, minimum=1)
WORKER_STALL_SECONDS = env_int("WORKER_STALL_SECONDS", 30, minimum=2)
WORKER_SHUTDOWN_SECONDS = env_int("WORKER_SHUTDOWN_SECONDS", 20, minimum=1)

# --- The evaluation pipeline ----------------------------------------------------------------------------
# A worker holds a lease on the submission it evaluates and renews it every LEASE_SECONDS / 3. The reaper
# (beat, every REAPER_INTERVAL_SECONDS) requeues submissions whose lease expired, up to MAX_ATTEMPTS.
EVALUATION_LEASE_SECONDS = env_int("EVALUATION_LEASE_SECONDS", 60, minimum=3)
EVALUATION_MAX_ATTEMPTS = env_int("EVALUATION_MAX_ATTEMPTS", 3, minimum=1)
EVALUATION_SOFT_TIME_LIMIT = env_int("EVALUATION_SOFT_TIME_LIMIT", 3600, minimum=1)
REAPER_INTERVAL_SECONDS = env_int("REAPER_INTERVAL_SECONDS", 15, minimum=1)
# A queued submission whose message may have been lost (broker restart) is re-sent after this long.
QUEUED_RESEND_SECONDS = env_int("QUEUED_RESEND_SECONDS", 120, minimum=1)
EVALUATOR_EXTRA_PATHS = env_list("EVALUATOR_EXTRA_PATHS", [])

# --- The closed division's sandbox ---------------------------------------------------------------------
# Scratch space of the runs and the per-task input folders they mount read-only. Each limit is a default that
# a task may override (Task.sandbox_*).
SANDBOX_ROOT = env_path("SANDBOX_ROOT", VAR_DIR / "sandbox")
SANDBOX_CPU_SECONDS = env_int("SANDBOX_CPU_SECONDS", 600, minimum=1)
SANDBOX_WALL_SECONDS = env_int("SANDBOX_WALL_SECONDS", 900, minimum=1)
SANDBOX_MEMORY_MB = env_int("SANDBOX_MEMORY_MB", 2048, minimum=64)
SANDBOX_PROCESSES = env_int("SANDBOX_PROCESSES", 64, minimum=1)
SANDBOX_OUTPUT_MB = env_int("SANDBOX_OUTPUT_MB", 256, minimum=1)
SANDBOX_TMP_MB = env_int("SANDBOX_TMP_MB", 256, minimum=1)
# The code archive: unpacked size, number of files.
SANDBOX_CODE_MAX_MB = env_int("SANDBOX_CODE_MAX_MB", 200, minimum=1)
SANDBOX_CODE_MAX_FILES = env_int("SANDBOX_CODE_MAX_FILES", 2000, minimum=1)

# --- Security headers -----------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
# Only sent once SECURE_HSTS_SECONDS is set. Turn them off if a subdomain is still served over plain HTTP.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None


# --- Cache ----------------------------------------------------------------------------------------------
# Leaderboard reads (keyed by each board's version, so a rebuilt board is never served stale) and the API's
# throttle counters. Local memory per process by default; CACHE_URL=redis://host:6379/1 shares one cache
# between all web processes (Django's built-in RedisCache); dummy:// turns caching off.
def _caches(url: str) -> dict[str, dict[str, object]]:
    if url in {"", "locmem://"}:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dataperf"}}
    if url == "dummy://":
        return {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    raise ImproperlyConfigured(f"CACHE_URL={url!r} is not supported (use redis://host:port/db, locmem:// or dummy://)")


CACHES = _caches(env_str("CACHE_URL", ""))
# Each process also keeps the leaderboard documents it served last, encoded, in its own memory (up to this many
# MB): a read of a large board then costs no decoding out of the cache (apps/leaderboards/documents.py).
LEADERBOARD_MEMORY_CACHE_MB = env_int("LEADERBOARD_MEMORY_CACHE_MB", 64, minimum=0)

# --- The REST API (apps/api, /api/v1/) -------------------------------------------------------------------
# Throttle rates per client, "<count>/<second|minute|hour|day>"; a user's rate applies to their tokens and
# session together. DRF keeps the counters in the default cache (per process unless CACHES is shared).
API_THROTTLE_ANON = env_str("API_THROTTLE_ANON", "1000/hour")
API_THROTTLE_USER = env_str("API_THROTTLE_USER", "20000/hour")
for _name, _rate in (("API_THROTTLE_ANON", API_THROTTLE_ANON), ("API_THROTTLE_USER", API_THROTTLE_USER)):
    _count, _, _period = _rate.partition("/")
    if not _count.isdigit() or _period not in {"second", "minute", "hour", "day"}:
        raise ImproperlyConfigured(f"{_name}={_rate!r} is not a rate such as 100/minute")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.api.throttles.AnonThrottle", "apps.api.throttles.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": API_THROTTLE_ANON, "user": API_THROTTLE_USER},
    # The browsable API only in development; production speaks JSON.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DataPerf platform API",
    "DESCRIPTION": "Challenges, tasks and their public data, registration, submissions, quotas and "
    "leaderboards of the DataPerf platform. Authenticate with `Authorization: Token <key>` (create a key on "
    "the account page, /accounts/tokens/) or a browser session.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "TAGS": [
        {"name": "challenges", "description": "Challenges, registration and teams."},
        {"name": "tasks", "description": "Tasks, their public data files and your quota."},
        {"name": "submissions", "description": "Submit, follow the evaluation, select as final, withdraw."},
        {"name": "leaderboards", "description": "Leaderboards and the benchmark matrix."},
        {"name": "accounts", "description": "Who you are."},
        {
            "name": "ratchets",
            "description": "Data ratchets: rounds, their figures and frozen standings, and validating new test items.",
        },
    ],
    # Swagger UI and ReDoc from the pinned drf-spectacular-sidecar package, served as our static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No badge fetched from the public validator service.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {
        "SubmissionStatusEnum": "apps.submissions.models.Submission.Status",
        "RoundStatusEnum": "apps.ratchets.models.Round.Status",
    },
    # What Django's path converters accept, so that clients (and schemathesis) see the real constraints.
    "PATH_CONVERTER_OVERRIDES": {
        "slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
        "int": {"type": "integer", "minimum": 0},
    },
}

# --- E-mail (notifications of submission outcomes) -----------------------------------------------------
# The console back end prints messages to the worker's log; set EMAIL_BACKEND to
# django.core.mail.backends.smtp.EmailBackend and EMAIL_HOST (etc.) to send them.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "dataperf@localhost")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive; set one of them")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)


def _site_url() -> str:
    """The address the site is reached at, for links in e-mails and the demo's banner (no trailing slash):
    SITE_URL, by default where `make run` serves it (its HOST and PORT, scripts/run_all.py)."""
    default = f"http://{env_str('HOST', '127.0.0.1')}:{env_int('PORT', 8000, minimum=1)}"
    url = env_str("SITE_URL", default).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"SITE_URL={url!r} is not an http:// or https:// address")
    return url


SITE_URL = _site_url()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# A reap message expires after two intervals: while every pool slot is busy the runs do not pile up (a worker
# that frees a slot discards the expired ones unrun), yet the newest message, never older than one interval, is
# always still valid, so no stretch of load can drop every run. Two runs back to back are harmless: each claims
# its rows with skip_locked and conditional updates.
CELERY_BEAT_SCHEDULE = {
    "reap-submissions": {
        "task": "dataperf.reap_submissions",
        "schedule": float(REAPER_INTERVAL_SECONDS),
        "options": {"queue": MAINTENANCE_QUEUE, "expires": 2.0 * REAPER_INTERVAL_SECONDS},
    },
}
