"""Scan execution, target policy and engine binaries."""

from config.env import env_bool, env_int, env_list, env_str

# "loopback": only 127.0.0.0/8, ::1, localhost, *.localhost and LANTERN_LOOPBACK_NAMES (development, tests).
# "public": any syntactically valid target that is not on the deny-list (production; scope checks apply).
LANTERN_TARGET_POLICY = env_str("LANTERN_TARGET_POLICY", "public")
# Extra names that the loopback policy accepts, each pinned to a loopback address: "name=127.0.0.2,...".
LANTERN_LOOPBACK_NAMES = env_list("LANTERN_LOOPBACK_NAMES", [])
# Never scanned, whatever a request asks (e.g. a management service on the scanning host itself).
LANTERN_EXCLUDED_PORTS = env_str("LANTERN_EXCLUDED_PORTS", "")
# Networks no tenant may ever scan: cloud metadata services and the platform's own hosts.
LANTERN_DENY_NETWORKS = env_list(
    "LANTERN_DENY_NETWORKS",
    ["169.254.169.254/32", "169.254.170.2/32", "100.100.100.200/32", "fd00:ec2::254/128"],
)
LANTERN_DENY_NAMES = env_list("LANTERN_DENY_NAMES", ["metadata.google.internal", "metadata"])

# A scan whose timeout is not given gets the engine's default; none may ask for more than this.
LANTERN_SCAN_DEFAULT_TIMEOUT_S = env_int("LANTERN_SCAN_DEFAULT_TIMEOUT_S", 3600)
# A worker updates heartbeat_at of its running scan this often; a scan silent for STALE seconds is re-queued.
LANTERN_SCAN_HEARTBEAT_S = env_int("LANTERN_SCAN_HEARTBEAT_S", 5)
LANTERN_SCAN_STALE_S = env_int("LANTERN_SCAN_STALE_S", 45)
LANTERN_SCAN_MAX_ATTEMPTS = env_int("LANTERN_SCAN_MAX_ATTEMPTS", 2)
# How often the runner checks whether its scan was cancelled.
LANTERN_CANCEL_POLL_S = float(env_str("LANTERN_CANCEL_POLL_S", "0.5"))

# Explicit tool paths, "nmap=/opt/nmap/bin/nmap,sqlmap=/usr/bin/sqlmap"; a tool not named here is looked
# up in var/tools/bin (scanners installed by `make` in their own virtualenvs), then on PATH.
ENGINE_BINARIES = dict(item.split("=", 1) for item in env_list("LANTERN_ENGINE_BINARIES", []) if "=" in item)
ENGINE_WORKDIR = env_str("LANTERN_ENGINE_WORKDIR", "")
ENGINE_MAX_OUTPUT_BYTES = env_int("LANTERN_ENGINE_MAX_OUTPUT_BYTES", 256 * 1024 * 1024)
ENGINE_MAX_MEMORY_BYTES = env_int("LANTERN_ENGINE_MAX_MEMORY_BYTES", 2 * 1024 * 1024 * 1024)
ENGINE_MAX_OPEN_FILES = env_int("LANTERN_ENGINE_MAX_OPEN_FILES", 4096)

# Politeness: concurrent scans against one destination (host or network), across all tenants and engines.
LANTERN_MAX_SCANS_PER_DESTINATION = env_int("LANTERN_MAX_SCANS_PER_DESTINATION", 2)
# Back-pressure: past these many queued scans (all tenants / one tenant) new submissions get 429.
LANTERN_BACKLOG_MAX = env_int("LANTERN_BACKLOG_MAX", 10000)
LANTERN_TENANT_BACKLOG_MAX = env_int("LANTERN_TENANT_BACKLOG_MAX", 2000)
LANTERN_BACKLOG_RETRY_AFTER_S = env_int("LANTERN_BACKLOG_RETRY_AFTER_S", 30)
# "Recently done": a repeated submission (seed 001 target, native Idempotency-Key) within this window
# returns the existing scan instead of creating one.
LANTERN_REPEAT_WINDOW_S = env_int("LANTERN_REPEAT_WINDOW_S", 3600)

# Engines with their own Celery queue, so a host that has ZAP or nuclei can serve only those jobs:
# "zap=scans.zap,nuclei=scans.nuclei" (a worker then runs with -Q scans.zap). Others use "scans".
LANTERN_ENGINE_QUEUES = dict(item.split("=", 1) for item in env_list("LANTERN_ENGINE_QUEUES", []) if "=" in item)
# Refuse a scan (422) when no live worker has its engines; a worker is live if it reported recently.
LANTERN_REQUIRE_LIVE_ENGINES = env_bool("LANTERN_REQUIRE_LIVE_ENGINES", True)
LANTERN_WORKER_STALE_S = env_int("LANTERN_WORKER_STALE_S", 120)
LANTERN_WORKER_REPORT_S = env_int("LANTERN_WORKER_REPORT_S", 30)
LANTERN_WORKER_ENGINES_RECHECK_S = env_int("LANTERN_WORKER_ENGINES_RECHECK_S", 600)

# The largest report POST /api/v1/scans/import accepts.
LANTERN_IMPORT_MAX_BYTES = env_int("LANTERN_IMPORT_MAX_BYTES", 200 * 1024 * 1024)

# Scope: a target must lie within the tenant's verified assets (tenants/scope.py). On in production; the
# development and test settings keep the loopback-only policy and turn scope on in the tests that cover it.
LANTERN_SCOPE_ENFORCED = env_bool("LANTERN_SCOPE_ENFORCED", True)

# The largest network a plan may scan at once (IPv6 gets the same number of addresses).
LANTERN_MAX_NETWORK_PREFIX = {"startup": 24, "professional": 20, "enterprise": 16}
# Asset ownership checks: DNS servers ("addr" or "addr:port"; empty: the system resolver), ports, limits.
LANTERN_VERIFY_DNS_SERVERS = env_list("LANTERN_VERIFY_DNS_SERVERS", [])
LANTERN_VERIFY_HTTP_PORTS = {"https": 443, "http": 80}
LANTERN_VERIFY_TIMEOUT_S = float(env_str("LANTERN_VERIFY_TIMEOUT_S", "5"))
LANTERN_VERIFY_MAX_BODY_BYTES = env_int("LANTERN_VERIFY_MAX_BODY_BYTES", 16384)
LANTERN_VERIFY_CA_FILE = env_str("LANTERN_VERIFY_CA_FILE", "")
