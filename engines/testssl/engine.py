"""testssl.sh: the most thorough TLS audit of one port (protocols, ciphers, certificate, HTTP security
headers, about twenty named vulnerabilities, client simulations), at the price of time: 40 to 80 s on loopback
with `--fast`, minutes on a remote server, because it forks openssl hundreds of times.

Why it is built this way:
- One port per run: testssl.sh takes one URI; its mass-testing mode would only run the same ports one after
  the other inside a single step. A host with several TLS ports gets one step per port.
- testssl.sh looks names up even with `--nodns none` (the name `invalid`, among others), so a scan step should
  run where that traffic cannot leak (its live test runs in a network namespace that has only loopback). A
  name pinned to an address is scanned as `--ip address name:port`: testssl.sh connects to the address and
  sends the name. Only a name with no pinned address gets `--nodns min`, because it must then resolve it.
- Non-interactive and quiet: `--warnings batch` (stop instead of asking), `--quiet` (no banner), `--color 0`.
  The report is the flat JSON of `--jsonfile` in the workdir; `--phone-out` (CRL and OCSP downloads) is never
  set.
- Exit codes say little: a complete run exits with the sum of its checks' return codes, and only 242 to 255
  are testssl.sh's fatal errors. So every exit code is accepted and the JSON decides: a FATAL entry (e.g.
  "Can't connect") or no result about the target fails the step; WARN entries (a check the local openssl
  cannot run) do not.
- Target reading, `sni` and STARTTLS names are shared with the sslyze engine (engines.sslyze.engine).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from engines.base import Engine, EngineJob, LiveEvent
from engines.errors import EngineFailed
from engines.options import Option, OptionSchema
from engines.ports import count_ports, parse_ports
from engines.process import ProcessResult
from engines.records import Record, ServiceRecord
from engines.sslyze.engine import HOSTNAME, check_server_name, check_sni_target, tls_endpoint
from engines.testssl.parse import parse as parse_json
from engines.testssl.parse import scan_problems

REPORT = "testssl.json"
# Lantern's STARTTLS names (shared by the three TLS engines) -> testssl.sh's.
STARTTLS = {"ftp": "ftp", "imap": "imap", "ldap": "ldap", "lmtp": "lmtp", "mysql": "mysql", "nntp": "nntp",
            "pop3": "pop3", "postgres": "postgres", "smtp": "smtp", "telnet": "telnet", "xmpp": "xmpp"}
FATAL_EXIT_CODES = {
    242: "a child process was signalled", 244: "a resource could not be read", 245: "unexpected state",
    246: "connectivity problem", 247: "a name or address could not be resolved", 248: "client problem",
    249: "DNS tools missing", 250: "openssl binary problem", 251: "feature not supported",
    252: "input file unreadable", 253: "output file could not be created", 254: "command line rejected",
    255: "unsupported bash",
}

_PHASES = (
    ("Start ", 2), ("Testing protocols", 5), ("Testing cipher categories", 15),
    ("Testing robust (perfect) forward secrecy", 25), ("Testing server preferences", 35),
    ("Testing server defaults", 45), ("Testing HTTP header", 55), ("Testing vulnerabilities", 60),
    ("Testing all ", 75), ("Running client simulations", 85), ("Done ", 99),
)
_PHASE_NAME = re.compile(r"^[A-Za-z ()]+")


def _check_one_port(spec: str) -> None:
    if count_ports(parse_ports(spec)) != 1:
        raise ValueError("must name exactly one port: testssl.sh scans one port per run")


SCHEMA = OptionSchema((
    Option("ports", str, "443", "The TLS port to scan (one per run; url targets use the URL's port)",
           check=_check_one_port, max_length=11),
    Option("fast", bool, True, "Skip the slowest checks (--fast): about 36 s instead of 45 s on loopback"),
    Option("sni", str, description="Server name to send (SNI) when the target is an IP address",
           pattern=HOSTNAME, max_length=253, check=check_server_name),
    Option("starttls", str, description="Negotiate TLS inside this protocol first (STARTTLS)",
           choices=tuple(STARTTLS)),
    Option("connectTimeout", int, description="Seconds to wait for each TCP connect and each openssl "
           "handshake (testssl.sh's default: no limit)", minimum=1, maximum=120),
))


class TestsslEngine(Engine):
    __test__ = False  # a scanner engine, not a pytest test class (its name starts with "Test")

    name = "testssl"
    binary_name = "testssl"
    category = "tls"
    description = "Thorough TLS audit of one port: protocols, ciphers, certificate, HTTP security headers, " \
                  "named vulnerabilities (Heartbleed, ROBOT, POODLE, BEAST, ...), client simulations."
    target_types = frozenset({"host", "ip", "domain", "url"})
    schema = SCHEMA
    default_timeout_s = 1200
    ok_exit_codes = frozenset(range(256))

    def validate_options(self, raw: Any, *, target_type: str, non_production: bool = False) -> dict[str, Any]:
        options = self.schema.validate(raw)
        check_sni_target(options, target_type)
        return options

    def version_argv(self, binary: str) -> list[str]:
        return [binary, "--version"]

    def build_argv(self, job: EngineJob) -> list[str]:
        options = job.options
        endpoint = tls_endpoint(job, tool=self.name, max_ports=1)
        must_resolve = bool(endpoint.name) and not endpoint.address
        argv = [job.binary, "--jsonfile", str(job.workdir / REPORT), "--warnings", "batch", "--quiet",
                "--color", "0", "--nodns", "min" if must_resolve else "none"]
        if options.get("fast"):
            argv.append("--fast")
        if endpoint.name and endpoint.address:
            argv += ["--ip", endpoint.address]
        if options.get("starttls"):
            argv += ["--starttls", STARTTLS[options["starttls"]]]
        if options.get("connectTimeout"):
            seconds = str(options["connectTimeout"])
            argv += ["--connect-timeout", seconds, "--openssl-timeout", seconds]
        host = endpoint.name or endpoint.address
        return argv + [f"[{host}]:{endpoint.ports[0]}" if ":" in host else f"{host}:{endpoint.ports[0]}"]

    def on_line(self, line: str) -> list[LiveEvent]:
        text = line.strip()
        for marker, percent in _PHASES:
            if text.startswith(marker):
                phase = _PHASE_NAME.match(text)
                return [LiveEvent("progress", {"percent": percent,
                                               "tool_phase": (phase.group() if phase else marker).strip()})]
        return []

    def parse(self, job: EngineJob) -> Iterator[Record]:
        path = job.workdir / REPORT
        if not path.is_file():
            raise EngineFailed("testssl.sh wrote no JSON report")
        return parse_json(path)

    def problems(self, job: EngineJob, result: ProcessResult) -> list[str]:
        path = job.workdir / REPORT
        lines = [line.strip() for line in result.stderr_tail.splitlines() if line.strip()]
        code = result.returncode
        meaning = f", {FATAL_EXIT_CODES[code]}" if code in FATAL_EXIT_CODES else ""
        detail = f": {lines[-1]}" if lines else ""
        if not path.is_file() or path.stat().st_size == 0:
            return [f"testssl.sh wrote no JSON report (exit code {code}{meaning}){detail}"]
        fatal = scan_problems(path, fatal_only=True)
        if fatal:
            return fatal
        if not any(isinstance(record, ServiceRecord) for record in parse_json(path)):
            return [f"testssl.sh reported nothing about the target (exit code {code}{meaning}){detail}"]
        return []
