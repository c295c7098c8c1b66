"""wapiti: black-box web application scanning (seed 002's table: modules, scope, maxDepth, maxTime).

wapiti runs from its own virtualenv (var/tools/wapiti-venv, see install.sh: its pins clash with Django's).
Offline and loopback only, as measured for wapiti 3.2.3:

* Modules that reach third parties are not on the allow-list: ssrf and xxe (they poll wapiti3.ovh for the
  target's callbacks), log4shell (DNS callbacks to dns.wapiti3.ovh), wapp, nikto and htp (download their
  databases from GitHub at attack time), takeover (resolves CNAMEs through the public DNS) and ssl (asks
  crt.sh about the certificate; Lantern's TLS engines cover it).
* Every module is instantiated even when not selected, and log4shell's constructor resolves the DNS
  endpoint: `--dns-endpoint 127.0.0.1` makes that a no-op. `--external-endpoint` (only written into payloads
  sent to the target, e.g. remote file inclusion) points at a dead loopback port instead of wapiti3.ovh.
* `--no-bugreport` (a crashing module would upload its traceback to wapiti3.ovh), never `--update`.
* `--flush-session`, with session and configuration databases inside the workdir.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engines.base import Engine, EngineJob, LiveEvent
from engines.errors import EngineFailed
from engines.options import Option, OptionSchema, OptionTypeError
from engines.process import ProcessResult
from engines.records import Record
from engines.wapiti.parse import parse as parse_report

REPORT = "wapiti.json"
DEAD_ENDPOINT = "http://127.0.0.1:9/"  # the discard port: nothing listens, nothing leaves the machine
MAX_SCAN_SECONDS = 86400

# wapiti 3.2.3's attack modules that contact nothing but the target.
MODULES = (
    "backup", "brute_login_form", "buster", "cms", "cookieflags", "crlf", "csp", "csrf", "exec", "file",
    "htaccess", "http_headers", "https_redirect", "ldap", "methods", "network_device", "permanentxss",
    "redirect", "shellshock", "spring4shell", "sql", "timesql", "upload", "wp_enum", "xss",
)
# wapiti's own default set ("common") less ssl and ssrf, which reach third parties.
DEFAULT_MODULES = ("cookieflags", "csp", "exec", "file", "http_headers", "permanentxss", "redirect", "sql",
                   "upload", "xss")
NETWORKED_MODULES = ("htp", "log4shell", "nikto", "ssl", "ssrf", "takeover", "wapp", "xxe")

_DURATION = r"[1-9][0-9]{0,5}[smh]"
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
_FINDING = re.compile(
    r"^(?P<title>[A-Z][^\[\]]*?) in (?P<url>https?://\S+?)"
    r"(?: via injection in the parameter (?P<parameter>\S+))?$"
)


def duration_seconds(value: str) -> int:
    """"600s" / "10m" / "1h" in seconds (the pattern has already checked the form)."""
    return int(value[:-1]) * _UNIT_SECONDS[value[-1]]


def _check_duration(value: str) -> None:
    if duration_seconds(value) > MAX_SCAN_SECONDS:
        raise ValueError(f"must be at most {MAX_SCAN_SECONDS // 3600}h")


def _check_modules(value: list[str]) -> None:
    if not value:
        raise ValueError("must name at least one module")
    if len(set(value)) != len(value):
        raise ValueError("must not repeat a module")


SCHEMA = OptionSchema((
    Option("modules", list, list(DEFAULT_MODULES), "Attack modules to enable (default: all of wapiti's "
           "default modules that contact only the target). Not available: "
           f"{', '.join(NETWORKED_MODULES)} (they reach third-party servers)", choices=MODULES,
           max_items=len(MODULES), max_length=32, check=_check_modules),
    Option("scope", str, "domain", "Crawl scope: url, page, folder, domain",
           choices=("url", "page", "folder", "domain")),
    Option("maxDepth", int, 3, "Maximum crawl depth", minimum=1, maximum=20),
    Option("maxTime", str, description="Max scan duration, e.g. \"600s\", \"10m\", \"1h\" (at most 24h)",
           pattern=_DURATION, max_length=7, check=_check_duration),
))


class WapitiEngine(Engine):
    name = "wapiti"
    binary_name = "wapiti"
    category = "web_app"
    description = "Black-box web application scanner: crawls the site and attacks the forms and parameters."
    target_types = frozenset({"url"})
    schema = SCHEMA
    default_timeout_s = 3600

    def validate_options(self, raw: Any, *, target_type: str, non_production: bool = False) -> dict[str, Any]:
        if isinstance(raw, dict) and isinstance(raw.get("modules"), list):
            for module in raw["modules"]:
                if module in NETWORKED_MODULES:
                    raise OptionTypeError("modules", f"'{module}' is not available: it contacts third-party "
                                          "servers, and scans stay on the target")
        options = self.schema.validate(raw)
        options["modules"] = list(options["modules"])
        return options

    def build_argv(self, job: EngineJob) -> list[str]:
        options = job.options
        argv = [
            job.binary, "-u", job.network_url,
            "--scope", options["scope"], "--depth", str(options["maxDepth"]),
            "--module", ",".join(options["modules"]),
            "--flush-session", "--no-bugreport",
            "--store-session", str(job.workdir / "session"), "--store-config", str(job.workdir / "config"),
            "--external-endpoint", DEAD_ENDPOINT, "--dns-endpoint", "127.0.0.1",
            "--verbose", "1", "--format", "json", "--output", str(job.workdir / REPORT),
        ]
        if options.get("maxTime"):
            argv += ["--max-scan-time", str(duration_seconds(options["maxTime"]))]
        return argv

    def on_line(self, line: str) -> list[LiveEvent]:
        """wapiti prints each finding as a block; its first line names the issue, URL and parameter. It prints
        no percentage, so it gives no progress events."""
        if match := _FINDING.match(line.strip()):
            data = {"title": match["title"], "url": match["url"]}
            if match["parameter"]:
                data["parameter"] = match["parameter"]
            return [LiveEvent("finding_found", data)]
        return []

    def parse(self, job: EngineJob) -> Iterator[Record]:
        path = job.workdir / REPORT
        if not path.is_file():
            raise EngineFailed("wapiti wrote no JSON report")
        return parse_report(path)

    def problems(self, job: EngineJob, result: ProcessResult) -> list[str]:
        """wapiti exits 0 when it could not reach the target: its report then says it crawled no page."""
        path = job.workdir / REPORT
        if not path.is_file():
            return ["wapiti wrote no JSON report"]
        try:
            infos = json.loads(path.read_bytes()).get("infos") or {}
        except (ValueError, AttributeError):
            return []  # parse() reports a broken report with the parser's own message
        if infos.get("crawled_pages_nbr") == 0:
            errors = _connection_errors(job.workdir / "stdout.log")
            detail = f" ({'; '.join(errors)})" if errors else ""
            return [f"wapiti could not crawl the target: no page was reached{detail}"]
        return []


def _connection_errors(stdout: Path) -> list[str]:
    """wapiti's own connection error lines ("[!] ConnectError with URL ..."), which come first."""
    if not stdout.is_file():
        return []
    with open(stdout, "rb") as handle:
        head = handle.read(64 * 1024).decode("utf-8", "replace")
    return [line.strip()[4:] for line in head.splitlines() if line.startswith("[!] ")][:3]
