"""sqlmap: SQL injection detection on one URL (seed 002's table: level, risk, technique, dbs, batch).

Always non-interactive: `--batch` answers every prompt with its default, `--ignore-stdin` keeps sqlmap from
reading targets from a piped standard input (the runner's stdin is /dev/null, which sqlmap would otherwise
take for a target list and switch to "multiple targets" mode), and `--answers` pins the two answers that
matter: "extending=N" so sqlmap never widens the requested level and risk on its own once it has guessed
the DBMS (with --batch it would, which would break the production caps below), "keep testing=Y" so every
parameter is tested, not only the first injectable one. Output goes to workdir/sqlmap; no `--update`,
nothing else on the network than the target (the URL carries the pinned address, so sqlmap resolves
nothing).

Seed 002's safety advice is enforced: level > 3 or risk > 2 only for targets marked non-production.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engines.base import Engine, EngineJob, LiveEvent
from engines.errors import EngineFailed
from engines.options import Option, OptionSchema, OptionTypeError
from engines.process import ProcessResult
from engines.records import Record
from engines.sqlmap.parse import parse as parse_output

OUTPUT_DIR = "sqlmap"
PRODUCTION_MAX_LEVEL = 3
PRODUCTION_MAX_RISK = 2
STDOUT_SCAN_BYTES = 256 * 1024

_INJECTABLE = re.compile(
    r"(?P<place>[\w()\- ]+?) parameter '(?P<parameter>[^']+)' (?:appears to be|is) '(?P<technique>[^']+)' "
    r"injectable"
)
# sqlmap prints a progress bar only while it retrieves data ("45% [=====>   ]").
_PROGRESS = re.compile(r"^\s*(?P<pct>\d{1,3})% \[")
# sqlmap exits 0 after each of these although it tested nothing.
_FATAL = (
    re.compile(r"\[CRITICAL\] (unable to connect to the target URL(?!.*going to retry).*)"),
    re.compile(r"\[CRITICAL\] (connection timed out to the target URL(?!.*going to retry).*)"),
    re.compile(r"\[CRITICAL\] (no parameter\(s\) found for testing.*)"),
    re.compile(r"\[CRITICAL\] (invalid target URL.*)"),
    re.compile(r"\[CRITICAL\] (can't establish SSL connection.*)"),
    re.compile(r"\[CRITICAL\] (host '.*' does not exist.*)"),
)


def _check_technique(value: str) -> None:
    if len(set(value)) != len(value):
        raise ValueError("must not repeat a technique letter")


SCHEMA = OptionSchema((
    Option("level", int, 1, "Test level (1-5). Higher = more payloads; above 3 only on non-production "
           "targets", minimum=1, maximum=5),
    Option("risk", int, 1, "Risk level (1-3). Higher = more aggressive; 3 only on non-production targets",
           minimum=1, maximum=3),
    Option("technique", str, "BEUSTQ", "Injection techniques to test: B boolean-based blind, E error-based, "
           "U UNION query, S stacked queries, T time-based blind, Q inline query", pattern=r"[BEUSTQ]{1,6}",
           max_length=6, check=_check_technique),
    Option("dbs", bool, False, "Enumerate databases (--dbs)"),
    Option("batch", bool, True, "Non-interactive mode; always true (scans run without a terminal)"),
))


class SqlmapEngine(Engine):
    name = "sqlmap"
    production_gated = True
    binary_name = "sqlmap"
    category = "web_app"
    description = "Automated detection of SQL injection flaws in a URL's parameters."
    target_types = frozenset({"url"})
    schema = SCHEMA
    default_timeout_s = 1800

    def validate_options(self, raw: Any, *, target_type: str, non_production: bool = False) -> dict[str, Any]:
        options = self.schema.validate(raw)
        if not options["batch"]:
            raise OptionTypeError("batch", "must be true: scans run without a terminal to answer sqlmap")
        if not non_production and options["level"] > PRODUCTION_MAX_LEVEL:
            raise OptionTypeError("level", f"above {PRODUCTION_MAX_LEVEL} is allowed only on targets marked "
                                  "non-production (seed 002: level <= 3 on production systems)")
        if not non_production and options["risk"] > PRODUCTION_MAX_RISK:
            raise OptionTypeError("risk", f"above {PRODUCTION_MAX_RISK} is allowed only on targets marked "
                                  "non-production (seed 002: risk <= 2 on production systems)")
        return options

    def build_argv(self, job: EngineJob) -> list[str]:
        options = job.options
        argv = [
            job.binary, "-u", job.network_url,
            "--batch", "--ignore-stdin", "--disable-coloring", "--flush-session",
            "--answers=extending=N,keep testing=Y",
            "--output-dir", str(job.workdir / OUTPUT_DIR),
            "--level", str(options["level"]), "--risk", str(options["risk"]),
            "--technique", options["technique"],
        ]
        if options["dbs"]:
            argv.append("--dbs")
        return argv

    def on_line(self, line: str) -> list[LiveEvent]:
        if match := _INJECTABLE.search(line):
            return [LiveEvent("finding_found", {
                "title": f"SQL injection in {match['place'].strip()} parameter '{match['parameter']}'",
                "parameter": match["parameter"], "place": match["place"].strip(),
                "technique": match["technique"], "severity": "high", "cwe": "CWE-89",
            })]
        if match := _PROGRESS.match(line):
            return [LiveEvent("progress", {"percent": min(99, int(match["pct"])), "tool_phase": "retrieval"})]
        return []

    def parse(self, job: EngineJob) -> Iterator[Record]:
        logs = _logs(job.workdir)
        if not logs:
            raise EngineFailed("sqlmap wrote no log in its output directory")
        return itertools.chain.from_iterable(parse_output(log) for log in logs)

    def problems(self, job: EngineJob, result: ProcessResult) -> list[str]:
        text = _stdout_text(job.workdir) or result.stdout_tail
        reasons = [match.group(1).strip() for line in text.splitlines() for pattern in _FATAL
                   if (match := pattern.search(line))]
        if not reasons and not _logs(job.workdir):
            reasons.append("sqlmap did not test the target (no log in its output directory)")
        return list(dict.fromkeys(reasons))


def _logs(workdir: Path) -> list[Path]:
    """sqlmap writes one <output-dir>/<host>/log per target host (target.txt beside it names the URL)."""
    root = workdir / OUTPUT_DIR
    return sorted(path for path in root.glob("*/log") if path.is_file()) if root.is_dir() else []


def _stdout_text(workdir: Path) -> str:
    """The end of what sqlmap printed: its fatal messages come last, just before it stops."""
    path = workdir / "stdout.log"
    if not path.is_file():
        return ""
    with open(path, "rb") as handle:
        handle.seek(max(0, path.stat().st_size - STDOUT_SCAN_BYTES))
        return handle.read().decode("utf-8", "replace")
