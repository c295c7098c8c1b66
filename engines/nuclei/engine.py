"""nuclei: template-based detection of vulnerabilities, misconfigurations and exposures (seed 002's table).

Templates come only from the nuclei-templates tree installed beside the tools
(``var/tools/nuclei-templates``), never from the network: ``-disable-update-check`` stops nuclei's own update
checks, ``-ud`` points it at that tree (whose absence is reported as "not installed" instead of letting nuclei
download one), and each template category of the allow-list maps to real directories of that tree. Categories
that act on third parties or on the worker itself are not offered: ``osint`` (queries public sites),
``token-spray`` (sends API tokens to vendors), ``file``/``code`` (read or run local files), ``headless`` (a
browser), ``fuzzing``/``dast``, ``credential-stuffing``. Templates tagged ``dos`` or ``fuzz`` are always
excluded, and interactsh (OAST callbacks through public oast.* servers, which would hand target data to a
third party) is always off.

Findings go to ``nuclei.jsonl`` (``-jsonl -o``, ``-omit-raw`` to keep requests/responses out of it); with
``-silent -jsonl`` standard output carries the same JSON lines, which ``on_line`` turns into live events.
``-stats -stats-json -stats-interval 5`` makes nuclei print a JSON progress line (``percent``) every five
seconds; nuclei writes it to standard error, so it reaches ``on_line`` only where the runner streams stderr.
With a pinned address the target carries the address, and ``-sni`` plus a ``Host`` header keep TLS and virtual
hosting working for the original name.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from engines.base import Engine, EngineJob, LiveEvent
from engines.binaries import TOOLS_BIN
from engines.errors import EngineUnavailable
from engines.nuclei.parse import parse as parse_jsonl
from engines.options import Option, OptionSchema, OptionTypeError
from engines.process import ProcessResult
from engines.records import Record

REPORT = "nuclei.jsonl"
TEMPLATES_DIR = TOOLS_BIN.parent / "nuclei-templates"
STATS_INTERVAL_S = 5
SEVERITIES = ("info", "low", "medium", "high", "critical", "unknown")
NEVER_TAGS = ("dos", "fuzz")

# Template category -> directories of the nuclei-templates tree (v10 layout: protocol first).
# "misconfigurations" is the seed's own spelling of the "misconfiguration" directory.
TEMPLATE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "cves": ("http/cves", "network/cves"),
    "vulnerabilities": ("http/vulnerabilities",),
    "misconfiguration": ("http/misconfiguration", "network/misconfig"),
    "misconfigurations": ("http/misconfiguration", "network/misconfig"),
    "exposures": ("http/exposures",),
    "exposed-panels": ("http/exposed-panels",),
    "technologies": ("http/technologies", "network/detection"),
    "default-logins": ("http/default-logins", "network/default-login"),
    "takeovers": ("http/takeovers",),
    "miscellaneous": ("http/miscellaneous",),
    "cnvd": ("http/cnvd",),
    "iot": ("http/iot",),
    "ssl": ("ssl",),
    "dns": ("dns",),
    "network": ("network",),
}
_TAG = r"[a-z0-9][a-z0-9_-]{0,63}"


def check_tags(items: list[str]) -> None:
    never = sorted(set(items) & set(NEVER_TAGS))
    if never:
        raise ValueError(f"must not select {', '.join(never)}: those templates are never run")


SCHEMA = OptionSchema((
    Option("templates", list, ["cves"], "Template categories to run", choices=tuple(TEMPLATE_CATEGORIES),
           max_items=len(TEMPLATE_CATEGORIES)),
    Option("severity", list, list(SEVERITIES), "Run only templates of these severities (default: all)",
           choices=SEVERITIES, max_items=len(SEVERITIES)),
    Option("concurrency", int, 25, "Templates executed in parallel", minimum=1, maximum=100),
    Option("rateLimit", int, 150, "Maximum requests per second", minimum=1, maximum=1000),
    Option("tags", list, [], "Run only templates with one of these tags", pattern=_TAG, check=check_tags,
           max_items=32),
    Option("excludeTags", list, [], "Skip templates with any of these tags", pattern=_TAG, max_items=32),
))


class NucleiEngine(Engine):
    name = "nuclei"
    category = "vulnerability"
    description = "Template-based detection of vulnerabilities, misconfigurations and exposures."
    target_types = frozenset({"url", "host", "domain", "ip"})
    schema = SCHEMA
    default_timeout_s = 3600
    templates_dir: ClassVar[Path] = TEMPLATES_DIR

    def validate_options(self, raw: Any, *, target_type: str, non_production: bool = False) -> dict[str, Any]:
        options = self.schema.validate(raw)
        for key in ("templates", "severity"):
            if not options[key]:
                raise OptionTypeError(key, "must name at least one value")
            options[key] = list(dict.fromkeys(options[key]))
        return options

    def build_argv(self, job: EngineJob) -> list[str]:
        options = job.options
        if not self.templates_dir.is_dir():
            raise EngineUnavailable(f"nuclei-templates are not installed at {self.templates_dir}")
        argv = [job.binary, "-u", job.network_target, "-jsonl", "-o", str(job.workdir / REPORT),
                "-disable-update-check", "-no-color", "-silent", "-stats", "-stats-json",
                "-stats-interval", str(STATS_INTERVAL_S), "-no-interactsh", "-omit-raw",
                "-ud", str(self.templates_dir)]
        argv += self._pinned_name_args(job)
        chosen = [TEMPLATE_CATEGORIES[category] for category in options["templates"]]
        for directory in dict.fromkeys(d for directories in chosen for d in directories):
            argv += ["-t", str(self.templates_dir / directory)]
        argv += ["-c", str(options["concurrency"]), "-rl", str(options["rateLimit"])]
        if set(options["severity"]) != set(SEVERITIES):
            argv += ["-s", ",".join(options["severity"])]
        if options["tags"]:
            argv += ["-tags", ",".join(options["tags"])]
        excluded = list(dict.fromkeys([*NEVER_TAGS, *options["excludeTags"]]))
        return [*argv, "-etags", ",".join(excluded)]

    def _pinned_name_args(self, job: EngineJob) -> list[str]:
        """With a pinned address, tell the server the original name (TLS SNI and HTTP Host)."""
        if not job.address:
            return []
        if job.target_type == "url":
            parts = urlsplit(job.target)
            name, port = parts.hostname or "", parts.port
        else:
            name, port = job.target, None
        if not name or _is_ip(name):
            return []
        return ["-sni", name, "-H", f"Host: {name}:{port}" if port else f"Host: {name}"]

    def on_line(self, line: str) -> list[LiveEvent]:
        text = line.strip()
        if not text.startswith("{"):
            return []
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return []
        if not isinstance(data, dict):
            return []
        if "template-id" in data:
            info = data["info"] if isinstance(data.get("info"), dict) else {}
            return [LiveEvent("finding_found", {"template_id": str(data["template-id"]),
                                                "severity": str(info.get("severity") or ""),
                                                "matched_at": str(data.get("matched-at") or "")})]
        if "percent" in data and "requests" in data:
            try:
                percent = int(float(data["percent"]))
            except (TypeError, ValueError):
                return []
            return [LiveEvent("progress", {"percent": max(0, min(100, percent)), "tool_phase": "templates"})]
        return []

    def parse(self, job: EngineJob) -> Iterator[Record]:
        path = job.workdir / REPORT
        if not path.exists():
            return iter(())
        return parse_jsonl(path)

    def problems(self, job: EngineJob, result: ProcessResult) -> list[str]:
        problems = [line.strip() for line in result.stderr_tail.splitlines() if "[FTL]" in line][-1:]
        stats = _last_stats(result.stderr_tail)
        requests, errors = _number(stats.get("requests")), _number(stats.get("errors"))
        if requests and errors >= requests:
            problems.append(f"every one of nuclei's {requests} requests failed: the target did not answer")
        return problems


def _last_stats(stderr: str) -> dict[str, Any]:
    """The last -stats-json line nuclei printed (its final summary), or {}."""
    for line in reversed(stderr.splitlines()):
        if line.startswith("{") and '"percent"' in line:
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(data, dict):
                return data
    return {}


def _number(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
