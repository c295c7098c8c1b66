from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Webhook endpoints and their delivery outbox (the webhooks issue fills this app)."""

    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"
