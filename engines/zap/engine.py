"""OWASP ZAP: dynamic application security testing (seed 002's table: scanPolicy, spiderMaxDepth, ajaxSpider,
activeScan, contextInclude, contextExclude, authentication).

ZAP cannot be installed on the development machines; this wrapper follows ZAP's documented command line and
Automation Framework (ZAP 2.12+) and is tested without the tool. ZAP runs inline (`-cmd`) with its home
directory inside the workdir (`-dir`) and `-silent`, which stops every unsolicited request: the check for
updates, news and telemetry. It runs a plan that build_argv writes into the workdir (the Automation
Framework takes its jobs only from a file). The plan is written as JSON, which is YAML, so no user value can
break its quoting. The plan spiders, optionally runs the AJAX spider, waits for the passive scanner,
optionally runs the active scan with the chosen policy, and writes a traditional XML report into the workdir.

Scope: the context's URL is the pinned URL, so ZAP resolves no name. Include and exclude patterns written
for the target's origin (or as paths starting with "/") are moved onto the pinned origin, and an exclude
pattern that matches every URL outside that origin is always added: however broad an include pattern is,
ZAP never spiders or attacks another site.

`authentication` cannot be expressed safely as flat options yet (credentials would need a secret store and
form/script logins run code); it is refused with a clear message.

ZAP's plan exits 0 on success, 1 on errors and 2 on warnings only; warnings are not failures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from engines.base import Engine, EngineJob, LiveEvent
from engines.errors import EngineFailed
from engines.options import Option, OptionSchema, OptionTypeError
from engines.process import ProcessResult
from engines.records import Record
from engines.zap.parse import parse as parse_report

REPORT = "zap-report.xml"
PLAN = "zap-plan.yaml"
HOME = "zap-home"
CONTEXT = "lantern"
PASSIVE_WAIT_MINUTES = 10

# scanPolicy -> (attack strength, alert threshold) of the active scan policy.
POLICIES = {"light": ("low", "medium"), "standard": ("medium", "medium"), "full": ("high", "low")}
# The plan's jobs always run in this order; each start is a fixed point on the progress bar.
_JOB_PERCENT = {"spider": 5, "spiderAjax": 20, "passiveScan-wait": 40, "activeScan": 45, "report": 95}
_JOB_STARTED = re.compile(r"^Job (?P<job>[\w-]+) started")


@dataclass(frozen=True)
class UnsupportedOption(Option):
    """An option of seed 002 that Lantern lists but refuses, so that a request using it fails loudly."""

    reason: str = ""

    def validate(self, value: Any) -> Any:
        raise OptionTypeError(self.name, f"is not supported yet: {self.reason}")

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object", "description": self.description, "readOnly": True}


def _check_patterns(patterns: list[str]) -> None:
    """URL regexes: they must compile and must not look like shell or path tricks (none is a valid URL)."""
    for pattern in patterns:
        for bad in ("$(", "../"):
            if bad in pattern:
                raise ValueError(f"must not contain '{bad}' ({pattern!r})")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"is not a valid regular expression ({pattern!r}: {exc})") from None


SCHEMA = OptionSchema((
    Option("scanPolicy", str, "standard", "Scan intensity: light, standard, full", choices=tuple(POLICIES)),
    Option("spiderMaxDepth", int, 3, "Maximum spidering depth", minimum=1, maximum=20),
    Option("ajaxSpider", bool, False, "Enable the AJAX/JavaScript spider (needs a headless browser)"),
    Option("activeScan", bool, True, "Perform active vulnerability testing"),
    Option("contextInclude", list, [], "Regex URL patterns to include in scope (full URLs of the target or "
           "paths starting with '/'); never wider than the target's origin", pattern=r"[^\s;`]+",
           max_items=32, max_length=512, check=_check_patterns),
    Option("contextExclude", list, [], "Regex URL patterns to exclude from scope", pattern=r"[^\s;`]+",
           max_items=32, max_length=512, check=_check_patterns),
    UnsupportedOption("authentication", dict, description="Authentication configuration (form, header or "
                      "cookie-based): not supported yet",
                      reason="authenticated ZAP scans need stored credentials, which Lantern does not "
                      "have yet; scan without 'authentication'"),
))


class ZapEngine(Engine):
    name = "zap"
    binary_name = "zap.sh"
    category = "web_app"
    description = "OWASP ZAP: spiders the web application and tests it for the OWASP Top 10."
    target_types = frozenset({"url"})
    schema = SCHEMA
    default_timeout_s = 7200
    ok_exit_codes = frozenset({0, 2})

    def validate_options(self, raw: Any, *, target_type: str, non_production: bool = False) -> dict[str, Any]:
        options = self.schema.validate(raw)
        options["contextInclude"] = list(options["contextInclude"])
        options["contextExclude"] = list(options["contextExclude"])
        return options

    def version_argv(self, binary: str) -> list[str]:
        return [binary, "-cmd", "-version"]

    def build_argv(self, job: EngineJob) -> list[str]:
        """Writes the plan into the workdir (the only way to hand ZAP a plan) and returns the command."""
        plan_path = job.workdir / PLAN
        plan_path.write_text(json.dumps(self.plan(job), indent=2, ensure_ascii=True) + "\n", encoding="utf-8")
        return [job.binary, "-cmd", "-silent", "-dir", str(job.workdir / HOME), "-autorun", str(plan_path)]

    def plan(self, job: EngineJob) -> dict[str, Any]:
        """The Automation Framework plan for this job, built from validated options only."""
        options = job.options
        target_origin, origin = _origin(job.target), _origin(job.network_url)
        includes = [_onto_origin(p, target_origin, origin) for p in options["contextInclude"]]
        excludes = [_onto_origin(p, target_origin, origin) for p in options["contextExclude"]]
        excludes.append(f"(?!{re.escape(origin)}(?:[/?#]|$)).*")
        context = {"name": CONTEXT, "urls": [job.network_url], "includePaths": includes,
                   "excludePaths": excludes}
        jobs: list[dict[str, Any]] = [
            {"type": "spider", "parameters": {"context": CONTEXT, "maxDepth": options["spiderMaxDepth"]}},
        ]
        if options["ajaxSpider"]:
            jobs.append({"type": "spiderAjax",
                         "parameters": {"context": CONTEXT, "maxCrawlDepth": options["spiderMaxDepth"]}})
        jobs.append({"type": "passiveScan-wait", "parameters": {"maxDuration": PASSIVE_WAIT_MINUTES}})
        if options["activeScan"]:
            strength, threshold = POLICIES[options["scanPolicy"]]
            jobs.append({"type": "activeScan", "parameters": {"context": CONTEXT},
                         "policyDefinition": {"defaultStrength": strength, "defaultThreshold": threshold}})
        jobs.append({"type": "report", "parameters": {
            "template": "traditional-xml", "reportDir": str(job.workdir), "reportFile": REPORT,
            "reportTitle": "Lantern ZAP scan"}})
        return {
            "env": {"contexts": [context],
                    "parameters": {"failOnError": True, "failOnWarning": False, "progressToStdout": True}},
            "jobs": jobs,
        }

    def on_line(self, line: str) -> list[LiveEvent]:
        """The plan prints "Job <type> started" for each job; ZAP prints no findings while it runs."""
        if (match := _JOB_STARTED.match(line.strip())) and match["job"] in _JOB_PERCENT:
            percent = _JOB_PERCENT[match["job"]]
            return [LiveEvent("progress", {"percent": percent, "tool_phase": match["job"]})]
        return []

    def parse(self, job: EngineJob) -> Iterator[Record]:
        path = job.workdir / REPORT
        if not path.is_file():
            raise EngineFailed("ZAP wrote no XML report")
        return parse_report(path)

    def problems(self, job: EngineJob, result: ProcessResult) -> list[str]:
        if not (job.workdir / REPORT).is_file():
            return ["ZAP wrote no XML report (the plan did not reach its report job)"]
        return []


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _onto_origin(pattern: str, target_origin: str, origin: str) -> str:
    """A pattern written for the target's name or as a path, moved onto the pinned origin; others unchanged
    (the scope guard in the excludes keeps them inside the origin anyway)."""
    if pattern.startswith("/"):
        return re.escape(origin) + pattern
    for prefix in (target_origin, re.escape(target_origin)):
        if pattern.startswith(prefix):
            return re.escape(origin) + pattern[len(prefix):]
    return pattern
