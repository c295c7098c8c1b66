"""sslyze: TLS configuration and certificate analysis of one host on one or more ports (seed 001's certificate
collection and analysis; the TLS step of host scans).

Why it is built this way:
- sslyze connects to every `host:port` itself. A name pinned to an address is handed over as
  `name:port{address}`: sslyze connects to the address, sends the name as SNI and checks the certificate
  against it, and never resolves the name. An IP target may carry an `sni` name (a virtual host behind that
  IP), which takes the same form. sslyze makes no other lookups.
- sslyze exits 1 whenever a server is not compliant with Mozilla's "intermediate" configuration. That is a
  finding about the target, not a failure, so 0 and 1 are both accepted and the JSON report decides. A crash
  also exits 1, but leaves no report, which problems() turns into a failure.
- A port that does not answer TLS exits 0 too. The step fails with sslyze's own reason when no port was
  reached; when at least one was, its results stand (an extra closed port is not an issue of the target).
- Scan commands come from an allow-list; none given means sslyze's default set plus the Mozilla check.
- sslyze has no per-connection timeout flag (5 s, 3 retries, built in); `slowConnection` lowers its
  concurrency for fragile servers instead.
- `tls_endpoint()`, the `sni` rules and the STARTTLS names are shared with the sslscan and testssl engines, so
  the three TLS engines read a target the same way.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from engines.base import Engine, EngineJob, LiveEvent
from engines.errors import EngineFailed
from engines.options import Option, OptionSchema, OptionTypeError
from engines.ports import count_ports, parse_ports, subtract_ports
from engines.process import ProcessResult
from engines.records import Record, ServiceRecord
from engines.sslyze.parse import parse as parse_json
from engines.sslyze.parse import scan_problems

REPORT = "sslyze.json"
MAX_PORTS = 32
HTTPS_PORT = 443

SCAN_COMMANDS = ("certinfo", "sslv2", "sslv3", "tlsv1", "tlsv1_1", "tlsv1_2", "tlsv1_3", "reneg",
                 "compression", "heartbleed", "openssl_ccs", "robot", "fallback", "elliptic_curves", "ems",
                 "resum", "early_data", "http_headers")
# Lantern's STARTTLS names (shared by the three TLS engines) -> sslyze's.
STARTTLS = {"auto": "auto", "ftp": "ftp", "imap": "imap", "ldap": "ldap", "pop3": "pop3",
            "postgres": "postgres", "rdp": "rdp", "smtp": "smtp", "xmpp": "xmpp",
            "xmpp_server": "xmpp_server"}
HOSTNAME = (r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
            r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")

_CONNECTED = re.compile(r"^\s+(?P<server>\S+):(?P<port>\d{1,5})\s+=>\s+(?P<ip>[0-9A-Fa-f:.]+)\s*$")
_PHASES = (("CHECKING CONNECTIVITY TO SERVER", 2), ("SCAN RESULTS FOR", 80), ("SCANS COMPLETED", 99))


def _check_ports(spec: str) -> None:
    if count_ports(parse_ports(spec)) > MAX_PORTS:
        raise ValueError(f"must name at most {MAX_PORTS} ports (each one is a full TLS scan)")


def check_server_name(value: str) -> None:
    """SNI carries a host name; RFC 6066 forbids IP literals in it."""
    if is_ip(value):
        raise ValueError("must be a host name, not an IP address")


def _check_scan_commands(values: list[str]) -> None:
    if len(set(values)) != len(values):
        raise ValueError("must not repeat a scan command")


SCHEMA = OptionSchema((
    Option("ports", str, "443", "TLS ports to scan, e.g. 443 or 443,8443 (at most 32; url targets use the "
           "URL's port)", check=_check_ports, max_length=400),
    Option("scanCommands", list, [], "sslyze scan commands to run; empty: sslyze's default set and the "
           "Mozilla configuration check", choices=SCAN_COMMANDS, max_items=len(SCAN_COMMANDS),
           check=_check_scan_commands),
    Option("sni", str, description="Server name to send (SNI) and check the certificate against when the "
           "target is an IP address", pattern=HOSTNAME, max_length=253, check=check_server_name),
    Option("starttls", str, description="Negotiate TLS inside this protocol first (STARTTLS); auto: from the "
           "port", choices=tuple(STARTTLS)),
    Option("slowConnection", bool, False, "Fewer concurrent connections, for servers that drop many at once"),
))


@dataclass(frozen=True)
class TlsEndpoint:
    """Where the TLS server is: `name` is the SNI name ("" for a bare IP), `address` the IP to connect to
    ("" when the tool may resolve `name` itself)."""

    name: str
    address: str
    ports: list[int]


class SslyzeEngine(Engine):
    name = "sslyze"
    binary_name = "sslyze"
    category = "tls"
    description = ("TLS configuration and certificate analysis: protocols, cipher suites, certificate chain "
                   "and trust, Heartbleed, ROBOT, CCS injection, renegotiation, compression.")
    target_types = frozenset({"host", "ip", "domain", "url"})
    schema = SCHEMA
    default_timeout_s = 900
    ok_exit_codes = frozenset({0, 1})

    def validate_options(self, raw: Any, *, target_type: str, non_production: bool = False) -> dict[str, Any]:
        options = self.schema.validate(raw)
        check_sni_target(options, target_type)
        return options

    def version_argv(self, binary: str) -> list[str]:
        return [binary, "--help"]

    def build_argv(self, job: EngineJob) -> list[str]:
        options = job.options
        endpoint = tls_endpoint(job, tool=self.name, max_ports=MAX_PORTS)
        argv = [job.binary, "--json_out", str(job.workdir / REPORT)]
        argv += [f"--{command}" for command in options.get("scanCommands") or ()]
        if options.get("starttls"):
            argv += ["--starttls", STARTTLS[options["starttls"]]]
        if options.get("slowConnection"):
            argv.append("--slow_connection")
        return argv + ["--"] + [_server_string(endpoint, port) for port in endpoint.ports]

    def on_line(self, line: str) -> list[LiveEvent]:
        if (match := _CONNECTED.match(line)) and is_ip(match["ip"]):
            port = int(match["port"])
            return [LiveEvent("port_found", {"ip": match["ip"], "port": port, "protocol": "tcp"})]
        for marker, percent in _PHASES:
            if marker in line:
                return [LiveEvent("progress", {"percent": percent, "tool_phase": marker.title()})]
        return []

    def parse(self, job: EngineJob) -> Iterator[Record]:
        path = job.workdir / REPORT
        if not path.is_file():
            raise EngineFailed("sslyze wrote no JSON report")
        return parse_json(path)

    def problems(self, job: EngineJob, result: ProcessResult) -> list[str]:
        path = job.workdir / REPORT
        if not path.is_file() or path.stat().st_size == 0:
            lines = [line for line in result.stderr_tail.splitlines() if line.strip()]
            detail = f": {lines[-1].strip()}" if lines else ""
            return [f"sslyze wrote no JSON report (exit code {result.returncode}){detail}"]
        problems = scan_problems(path)
        if problems and not any(isinstance(record, ServiceRecord) for record in parse_json(path)):
            return problems
        return []


def check_sni_target(options: dict[str, Any], target_type: str) -> None:
    """`sni` names a virtual host behind an IP; a domain target already is its own server name."""
    if options.get("sni") and target_type == "domain":
        raise OptionTypeError("sni", "applies only to IP addresses; a domain is sent as its own server name")


def tls_endpoint(job: EngineJob, *, tool: str, max_ports: int) -> TlsEndpoint:
    """The server name, the address to connect to and the ports, from the target, the pinned address and the
    options. A URL gives its own port (443 when an https URL has none); never-scan ports are dropped."""
    excluded = parse_ports(job.excluded_ports) if job.excluded_ports else []
    if job.target_type == "url":
        parts = urlsplit(job.target)
        if parts.port is None and parts.scheme != "https":
            raise EngineFailed(f"{job.target} names no TLS port: give an https URL or a host:port")
        host, ranges = parts.hostname or "", [(parts.port or HTTPS_PORT, parts.port or HTTPS_PORT)]
    else:
        host, ranges = job.target, parse_ports(job.options["ports"])
    ports = [port for low, high in subtract_ports(ranges, excluded) for port in range(low, high + 1)]
    if not ports:
        raise EngineFailed("every requested port is excluded by this installation")
    if len(ports) > max_ports:
        raise EngineFailed(f"{len(ports)} ports requested; {tool} scans at most {max_ports} per run")
    sni = job.options.get("sni") or ""
    if not is_ip(host):
        if sni and sni.lower() != host.lower():
            raise EngineFailed(f"option 'sni' applies only to IP targets; {host} is its own server name")
        return TlsEndpoint(name=host, address=job.address or "", ports=ports)
    return TlsEndpoint(name=sni, address=job.address or host, ports=ports)


def _server_string(endpoint: TlsEndpoint, port: int) -> str:
    """sslyze's target syntax: `name:port{ip}` (connect to ip, send name), `ip:port`, `[v6]:port`,
    `name:port`."""
    if endpoint.name and endpoint.address:
        return f"{endpoint.name}:{port}{{{endpoint.address}}}"
    host = endpoint.name or endpoint.address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
