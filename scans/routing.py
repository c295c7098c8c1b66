from django.urls import path

from scans.consumers import ScanEventsConsumer

websocket_urlpatterns = [
    path("ws/scans/", ScanEventsConsumer.as_asgi()),
    path("ws/scans/<str:scan_id>", ScanEventsConsumer.as_asgi()),
]
