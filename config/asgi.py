"""ASGI entry point: HTTP through Django, WebSocket through Channels (served by daphne)."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("LANTERN_DB_POOL", "true")  # one pool shared by the request threads (config/env.py)
django_asgi_app = get_asgi_application()

from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

if settings.LANTERN_SERVE_STATIC:
    # daphne serves no files by itself: the offline API docs (swagger-ui from the sidecar) and the admin's
    # CSS come through Django's static files handler. Production puts them behind a web server instead.
    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from scans.routing import websocket_urlpatterns  # noqa: E402
from tenants.ws_auth import ApiKeyWebsocketMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AuthMiddlewareStack(ApiKeyWebsocketMiddleware(URLRouter(websocket_urlpatterns))),
    }
)

# Garbage collection, tuned for a server that fans events out to hundreds of WebSocket clients: every pause of
# the collector delays every delivery in flight (bench/bench_ws_latency.py, 500 clients).
# - Everything loaded so far (Django, every app, every view through the URL conf) lives as long as the process.
#   Frozen, it leaves the collector's generations, so a full collection walks only what was made since.
#   Measured: full collections took 120 ms before, 25-50 ms after.
# - The young generation is collected every 50,000 allocations instead of 700, so the older ones fill more
#   slowly: a full collection about every ten minutes under load instead of every three seconds. Cycles that
#   die young are still freed within a second or so; memory held by older cyclic garbage waits a little longer.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # import every view and serializer now, so they are frozen with the rest
gc.freeze()
gc.set_threshold(50_000, 20, 100)
