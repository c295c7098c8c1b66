"""Settings shared by every environment. Values come from config.env with working local defaults."""

from __future__ import annotations

from pathlib import Path

from config.env import database_from_url, env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_secret("LANTERN_SECRET_KEY", default="lantern-insecure-development-key-change-me")
DEBUG = env_bool("LANTERN_DEBUG", False)
ALLOWED_HOSTS = env_list("LANTERN_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "channels",
    "tenants",
    "scans",
    "findings",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.observability.RequestMetricsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

DATABASE_URL = env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lantern")
DATABASES = {"default": database_from_url(DATABASE_URL, pool=env_bool("LANTERN_DB_POOL", False))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

LANTERN_RATE_REDIS_URL = env_str("LANTERN_RATE_REDIS_URL", REDIS_URL)
LANTERN_RATE_PREFIX = "lantern:rate"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "lantern",
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve static files from the ASGI app itself (development, tests, small installs); production leaves it
# to a web server in front of `manage.py collectstatic` output.
LANTERN_SERVE_STATIC = env_bool("LANTERN_SERVE_STATIC", True)

# --- REST API -----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tenants.auth.ApiKeyAuthentication",
                                       "tenants.auth.SessionMembershipAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.permissions.HasScopes"],
    "DEFAULT_THROTTLE_CLASSES": ["tenants.throttling.ApiKeyRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.SafeJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.exception_handler.exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Lantern API",
    "DESCRIPTION": "Multi-tenant security scan orchestration. Authenticate with `X-API-Key: <key>`, "
    "`Authorization: Bearer <key>` or the `api-key` / `api-secret` header pair.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "config.openapi.document_error_answers"],
    "ENUM_NAME_OVERRIDES": {
        "ScanStatusEnum": ["queued", "running", "completed", "failed", "cancelled"],
        "FindingStatusEnum": ["open", "in_progress", "resolved", "false_positive"],
    },
}

# --- Celery -------------------------------------------------------------------------------------------
from config.settings.parts.celery import *  # noqa: E402,F401,F403  (settings fragments, by design)

# --- Channels -----------------------------------------------------------------------------------------
# Pub/sub layer: a group message is published once and fanned out inside each daphne process, instead of
# one Redis list push per connected client (the events are stored first, so nothing relies on the layer
# keeping messages: a client that was away replays them by sequence number).
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": "lantern:ch"},
    }
}

# --- Scans and engines --------------------------------------------------------------------------------
from config.settings.parts.scans import *  # noqa: E402,F401,F403

# --- Webhooks -----------------------------------------------------------------------------------------
from config.settings.parts.webhooks import *  # noqa: E402,F401,F403

# Consumers of the scan event stream besides WebSocket, called after commit (scans/events.py).
LANTERN_EVENT_SINKS: list[str] = ["webhooks.sinks.on_scan_event"]

# /metrics (Prometheus) for a scraper sending this as a Bearer token; unset: staff sessions only.
LANTERN_METRICS_TOKEN = env_secret("LANTERN_METRICS_TOKEN", default="")
LANTERN_LOG_FORMAT = env_str("LANTERN_LOG_FORMAT", "plain")  # "json": one JSON object per line
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scan_context": {"()": "config.observability.ScanContextFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
                   "json": {"()": "config.observability.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LANTERN_LOG_FORMAT,
                             "filters": ["scan_context"]}},
    "root": {"handlers": ["console"], "level": env_str("LANTERN_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

PAGE_SIZE_MAX = 100
LOGIN_URL = "/console/login/"
LOGIN_REDIRECT_URL = "/console/"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("LANTERN_MAX_BODY_BYTES", 1_048_576)
