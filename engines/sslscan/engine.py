"""sslscan: a fast (well under a second on a LAN) survey of a TLS port: protocols, cipher suites, key exchange
groups, Heartbleed, renegotiation, compression and the leaf certificate.

Why it is built this way:
- One port per run. sslscan takes one target on its command line (extra ones are silently dropped), and its
  `--targets` file mode in 2.0.7 ends every run with a spurious `<error>` "Targets file ... does not exist."
  that cannot be told apart from a real one. A host with several TLS ports gets one step per port.
- A name pinned to an address is scanned as `address:port` with `--sni-name=name`, so sslscan never resolves
  it but still asks for (and reports) the name's certificate. An IP target may carry an `sni` name.
- sslscan exits 0 even when it could not connect; its XML then holds only `<error>` elements, which
  problems() turns into a failed step with sslscan's own words.
- `--show-certificate` adds the full subject, issuer, serial and PEM (for the SHA-256 fingerprint) to the
  XML; `--no-colour` keeps escape codes out of the live output.
- Target reading, `sni` and STARTTLS names are shared with the sslyze engine (engines.sslyze.engine), so the
  three TLS engines read a target the same way.
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
from engines.sslscan.parse import parse as parse_xml
from engines.sslscan.parse import scan_problems
from engines.sslyze.engine import HOSTNAME, check_server_name, check_sni_target, is_ip, tls_endpoint

REPORT = "sslscan.xml"
# Lantern's STARTTLS names (shared by the three TLS engines) -> sslscan's flag.
STARTTLS = {"ftp": "--starttls-ftp", "imap": "--starttls-imap", "irc": "--starttls-irc",
            "ldap": "--starttls-ldap", "mysql": "--starttls-mysql", "pop3": "--starttls-pop3",
            "postgres": "--starttls-psql", "rdp": "--rdp", "smtp": "--starttls-smtp",
            "xmpp": "--starttls-xmpp"}

_TESTING = re.compile(r"^Testing SSL server \[?(?P<host>[^\s\]]+)\]? on port (?P<port>\d{1,5})")
_SECTIONS = {
    "SSL/TLS Protocols:": 10, "TLS Fallback SCSV:": 20, "TLS renegotiation:": 25, "TLS Compression:": 30,
    "Heartbleed:": 35, "Supported Server Cipher(s):": 40, "Server Key Exchange Group(s):": 80,
    "SSL Certificate:": 90,
}


def _check_one_port(spec: str) -> None:
    if count_ports(parse_ports(spec)) != 1:
        raise ValueError("must name exactly one port: sslscan scans one port per run")


SCHEMA = OptionSchema((
    Option("ports", str, "443", "The TLS port to scan (one per run; url targets use the URL's port)",
           check=_check_one_port, max_length=11),
    Option("sni", str, description="Server name to send (SNI) when the target is an IP address",
           pattern=HOSTNAME, max_length=253, check=check_server_name),
    Option("starttls", str, description="Negotiate TLS inside this protocol first (STARTTLS; rdp: the RDP "
           "preamble)", choices=tuple(STARTTLS)),
    Option("connectTimeout", int, description="Socket timeout in seconds (sslscan's default: 3)", minimum=1,
           maximum=60),
))


class SslscanEngine(Engine):
    name = "sslscan"
    binary_name = "sslscan"
    category = "tls"
    description = "Fast TLS survey of one port: protocols, cipher suites, key exchange groups, Heartbleed, " \
                  "renegotiation, compression and the certificate."
    target_types = frozenset({"host", "ip", "domain", "url"})
    schema = SCHEMA
    default_timeout_s = 300

    def validate_options(self, raw: Any, *, target_type: str, non_production: bool = False) -> dict[str, Any]:
        options = self.schema.validate(raw)
        check_sni_target(options, target_type)
        return options

    def build_argv(self, job: EngineJob) -> list[str]:
        options = job.options
        endpoint = tls_endpoint(job, tool=self.name, max_ports=1)
        argv = [job.binary, "--no-colour", "--show-certificate", f"--xml={job.workdir / REPORT}"]
        if endpoint.name:
            argv.append(f"--sni-name={endpoint.name}")
        if options.get("starttls"):
            argv.append(STARTTLS[options["starttls"]])
        if options.get("connectTimeout"):
            argv.append(f"--timeout={options['connectTimeout']}")
        host = endpoint.address or endpoint.name
        return argv + [f"[{host}]:{endpoint.ports[0]}" if ":" in host else f"{host}:{endpoint.ports[0]}"]

    def on_line(self, line: str) -> list[LiveEvent]:
        text = line.strip()
        if match := _TESTING.match(text):
            events = [LiveEvent("progress", {"percent": 5, "tool_phase": "Connected"})]
            if is_ip(match["host"]):
                events.append(LiveEvent("port_found", {"ip": match["host"], "port": int(match["port"]),
                                                       "protocol": "tcp"}))
            return events
        if text in _SECTIONS:
            return [LiveEvent("progress", {"percent": _SECTIONS[text], "tool_phase": text.rstrip(":")})]
        return []

    def parse(self, job: EngineJob) -> Iterator[Record]:
        path = job.workdir / REPORT
        if not path.is_file():
            raise EngineFailed("sslscan wrote no XML report")
        return parse_xml(path)

    def problems(self, job: EngineJob, result: ProcessResult) -> list[str]:
        path = job.workdir / REPORT
        lines = [line.strip() for line in result.stderr_tail.splitlines() if line.strip()]
        detail = f": {lines[-1]}" if lines else ""
        if not path.is_file() or path.stat().st_size == 0:
            return [f"sslscan wrote no XML report (exit code {result.returncode}){detail}"]
        errors = scan_problems(path)
        if errors:
            return errors
        if not any(isinstance(record, ServiceRecord) for record in parse_xml(path)):
            return [f"sslscan scanned no TLS service{detail}"]
        return []
