"""Development (`make up`): debug on, loopback-only targets, the machine's management port never scanned."""

from config.env import env_bool, env_str
from config.settings.base import *  # noqa: F401,F403

DEBUG = env_bool("LANTERN_DEBUG", True)
LANTERN_TARGET_POLICY = env_str("LANTERN_TARGET_POLICY", "loopback")
LANTERN_EXCLUDED_PORTS = env_str("LANTERN_EXCLUDED_PORTS", "2024")
LANTERN_SCOPE_ENFORCED = env_bool("LANTERN_SCOPE_ENFORCED", False)
# Webhook receivers on this machine (development and tests); production refuses loopback and private ones.
LANTERN_WEBHOOK_ALLOW_LOOPBACK = env_bool("LANTERN_WEBHOOK_ALLOW_LOOPBACK", True)
