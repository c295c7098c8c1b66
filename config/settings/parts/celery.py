"""Celery: Redis broker, JSON only, late acks, one prefetch. Layered limits (STYLE C14).

Scans do not wait in the broker: the broker carries "slot" tokens, and the worker that takes one claims the
next eligible scan from PostgreSQL (priority, then age, within the tenant's concurrency). Priority is decided
there, so a broker restart loses nothing and ordering holds however long the backlog.
"""

from config.env import env_int, env_str

_REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

CELERY_BROKER_URL = env_str("LANTERN_BROKER_URL", _REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request that enqueues must not hang on a dead broker: fail fast; the database keeps the work.
CELERY_BROKER_CONNECTION_TIMEOUT = 2

SCAN_ENGINE_TIMEOUT_S = env_int("LANTERN_SCAN_MAX_TIMEOUT_S", 4 * 3600)
SCAN_TASK_SOFT_LIMIT_S = SCAN_ENGINE_TIMEOUT_S + 120
SCAN_TASK_HARD_LIMIT_S = SCAN_ENGINE_TIMEOUT_S + 300
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 120
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A scan task runs for as long as its scan; the message must not be redelivered meanwhile.
    "visibility_timeout": SCAN_TASK_HARD_LIMIT_S + 600,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
# Celery's Django fixup would otherwise close the database connection around every task (config/celery.py
# applies CONN_MAX_AGE and health checks at task boundaries instead). Counted in task starts and ends.
CELERY_DB_REUSE_MAX = 10**9
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "scans.tasks.scan_slot_task": {"queue": "scans"},
    "webhooks.tasks.*": {"queue": "webhooks"},
}
# Every queue a default worker consumes (make up, the tests); engine-specific queues come on top.
LANTERN_WORKER_QUEUES = "default,scans,webhooks"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Re-queue scans of lost workers and re-send tokens of waiting scans this often.
LANTERN_RECONCILE_S = env_int("LANTERN_RECONCILE_S", 30)
CELERY_BEAT_SCHEDULE = {
    "scans-reconcile": {
        "task": "scans.tasks.scans_reconcile_task",
        "schedule": float(LANTERN_RECONCILE_S),
        "options": {"expires": max(1, LANTERN_RECONCILE_S - 1)},
    },
    "findings-tallies-compact": {
        "task": "findings.tasks.finding_tallies_compact_task",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "webhooks-reap": {
        "task": "webhooks.tasks.webhook_deliveries_reap_task",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}
