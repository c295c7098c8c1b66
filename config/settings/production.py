"""Production: secrets and hosts must be given; debug off; secure cookies and headers."""

from config.env import env_bool, env_list, env_secret, env_str
from config.settings.base import *  # noqa: F401,F403

DEBUG = False
LANTERN_SERVE_STATIC = env_bool("LANTERN_SERVE_STATIC", False)
LOGGING["handlers"]["console"]["formatter"] = env_str("LANTERN_LOG_FORMAT", "json")  # noqa: F405
SECRET_KEY = env_secret("LANTERN_SECRET_KEY")
ALLOWED_HOSTS = env_list("LANTERN_ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("LANTERN_ALLOWED_HOSTS must list the host names Lantern serves")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
