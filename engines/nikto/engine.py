"""nikto: web server scanning for dangerous files, outdated software and misconfigurations (seed 002's table:
tuning, maxTime, ssl).

nikto cannot be installed on the development machines (no Debian package here); this wrapper follows nikto's
documented command line (2.1.5 to 2.5) and is tested without the tool. Non-interactive and offline:
`-ask no` (never ask about or send "updates" to cirt.net), `-nointeractive`, `-nolookup` (no DNS lookups;
the URL carries the pinned address), never `-update`. The report is XML (every nikto version writes it; JSON
only from 2.5) into the workdir.

Tuning letters are an allow-list: `x` (reverse the selection) is refused because it turns a short list into
"everything else"; `c` (remote source inclusion) is refused because its payload makes the target fetch a file
from cirt.net; `6` (denial of service) is allowed only on targets marked non-production, in the spirit of
seed 002's advice for aggressive sqlmap settings.

nikto exits 1 when it reported any item (it exits with "is_failure" set by findings), so 0 and 1 are both
success; a run that tested no host ("0 host(s) tested") is a failure although it exits 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from engines.base import Engine, EngineJob, LiveEvent
from engines.errors import EngineFailed
from engines.nikto.parse import parse as parse_report
from engines.options import Option, OptionSchema, OptionTypeError
from engines.process import ProcessResult
from engines.records import Record

REPORT = "nikto.xml"
MAX_SCAN_SECONDS = 86400
TUNING_LETTERS = "0123456789abde"
DOS_TUNING = "6"

_DURATION = r"[1-9][0-9]{0,5}[smh]"
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
_PROGRESS = re.compile(r"~(?P<pct>\d{1,3})% complete")
_ITEM = re.compile(r"^\+ (?:\[(?P<id>\d+)\] )?(?:OSVDB-(?P<osvdb>\d+): )?(?P<uri>/\S*): (?P<message>.+)$")
_NO_HOST = re.compile(r"^\+ 0 host\(s\) tested", re.MULTILINE)
_ERROR = re.compile(r"^\s*\+ ERROR: (?P<message>.+)$", re.MULTILINE)


def _check_tuning(value: str) -> None:
    if len(set(value)) != len(value):
        raise ValueError("must not repeat a tuning letter")


def _check_duration(value: str) -> None:
    if int(value[:-1]) * _UNIT_SECONDS[value[-1]] > MAX_SCAN_SECONDS:
        raise ValueError(f"must be at most {MAX_SCAN_SECONDS // 3600}h")


SCHEMA = OptionSchema((
    Option("tuning", str, "123", "Test categories: 1 interesting files, 2 misconfiguration/default files, "
           "3 information disclosure, 4 injection (XSS/script/HTML), 5 remote file retrieval (web root), "
           "6 denial of service (non-production targets only), 7 remote file retrieval server-wide, "
           "8 command execution, 9 SQL injection, 0 file upload, a authentication bypass, b software "
           "identification, d web services, e administrative console",
           pattern=f"[{TUNING_LETTERS}]{{1,{len(TUNING_LETTERS)}}}", max_length=len(TUNING_LETTERS),
           check=_check_tuning),
    Option("maxTime", str, description="Max scan duration, e.g. \"600s\", \"10m\", \"1h\" (at most 24h)",
           pattern=_DURATION, max_length=7, check=_check_duration),
    Option("ssl", bool, description="Force SSL mode (true: -ssl, false: -nossl); unset: nikto decides "
           "from the URL (auto)"),
))


class NiktoEngine(Engine):
    name = "nikto"
    production_gated = True
    binary_name = "nikto"
    category = "web_server"
    description = "Web server scanner: dangerous files and CGIs, outdated software, misconfigurations."
    target_types = frozenset({"url"})
    schema = SCHEMA
    default_timeout_s = 3600
    ok_exit_codes = frozenset({0, 1})

    def validate_options(self, raw: Any, *, target_type: str, non_production: bool = False) -> dict[str, Any]:
        options = self.schema.validate(raw)
        if DOS_TUNING in options["tuning"] and not non_production:
            raise OptionTypeError("tuning", "'6' (denial of service tests) is allowed only on targets marked "
                                  "non-production")
        return options

    def version_argv(self, binary: str) -> list[str]:
        return [binary, "-Version"]

    def build_argv(self, job: EngineJob) -> list[str]:
        options = job.options
        argv = [
            job.binary, "-h", job.network_url,
            "-ask", "no", "-nointeractive", "-nolookup", "-Display", "P",
            "-Tuning", options["tuning"],
            "-Format", "xml", "-output", str(job.workdir / REPORT),
        ]
        if options.get("maxTime"):
            argv += ["-maxtime", options["maxTime"]]
        if options.get("ssl") is True:
            argv.append("-ssl")
        elif options.get("ssl") is False:
            argv.append("-nossl")
        return argv

    def on_line(self, line: str) -> list[LiveEvent]:
        if match := _PROGRESS.search(line):
            return [LiveEvent("progress", {"percent": min(99, int(match["pct"]))})]
        if match := _ITEM.match(line.strip()):
            data = {"title": match["message"].strip(), "location": match["uri"]}
            if match["osvdb"]:
                data["osvdb"] = match["osvdb"]
            if match["id"]:
                data["nikto_id"] = match["id"]
            return [LiveEvent("finding_found", data)]
        return []

    def parse(self, job: EngineJob) -> Iterator[Record]:
        path = job.workdir / REPORT
        if not path.is_file():
            raise EngineFailed("nikto wrote no XML report")
        return parse_report(path)

    def problems(self, job: EngineJob, result: ProcessResult) -> list[str]:
        if _NO_HOST.search(result.stdout_tail):
            errors = [match["message"].strip() for match in _ERROR.finditer(result.stderr_tail)][-3:]
            detail = f": {'; '.join(errors)}" if errors else ""
            return [f"nikto tested no host (could not connect to the target){detail}"]
        if not (job.workdir / REPORT).is_file():
            return ["nikto wrote no XML report"]
        return []
