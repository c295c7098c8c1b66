"""Settings of the worker and daphne that webhooks/tests/test_stack.py starts: the test settings plus the
webhooks sink, loopback receivers and small retry and timeout values, so the real stack's behaviour is seen in
seconds."""

from config.settings.test import *  # noqa: F401,F403
from config.settings.test import CELERY_BROKER_TRANSPORT_OPTIONS, DATABASES, LANTERN_EVENT_SINKS

SINK = "webhooks.sinks.on_scan_event"
LANTERN_EVENT_SINKS = [*LANTERN_EVENT_SINKS, *([] if SINK in LANTERN_EVENT_SINKS else [SINK])]
LANTERN_WEBHOOK_ALLOW_LOOPBACK = True
LANTERN_WEBHOOK_BACKOFF_BASE_S = 0.4
LANTERN_WEBHOOK_CONNECT_TIMEOUT_S = 1.0
LANTERN_WEBHOOK_READ_TIMEOUT_S = 4.0
LANTERN_WEBHOOK_MAX_IN_FLIGHT = 1
LANTERN_WEBHOOK_MAX_ATTEMPTS = 4

# Several test sessions share the test Redis database, each with its own test database; a key prefix named
# after this session's database keeps their workers from taking each other's tasks.
CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS,
                                   "global_keyprefix": f"{DATABASES['default']['NAME']}:"}
