"""Webhook delivery settings (the webhooks app)."""
