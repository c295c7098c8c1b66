"""ASGI entry point: HTTP through Django, WebSocket through Channels (served by daphne)."""

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
