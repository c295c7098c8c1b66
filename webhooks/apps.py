from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Webhook endpoints per tenant, the delivery outbox fed by the scan event stream (webhooks.sinks), and
    the signed, SSRF-checked, retried deliveries made by tasks on the webhooks queue."""

    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"
