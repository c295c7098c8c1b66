"""masscan: a fast asynchronous TCP SYN port scan of an address or a network.

masscan sends raw packets from its own TCP/IP stack, so it always needs a privileged worker (root or
CAP_NET_RAW): ``needs_privileges`` is always true. It does not work on loopback at all (it finds nothing and
never exits, shared/ENGINES.md), which is why its live test runs it between two network namespaces.

Options (masscan is not in seed 002's table; these are Lantern's): ``ports`` is required (masscan has no sane
default and a full range must be asked for explicitly); the installation's excluded ports are subtracted from
it, as for nmap. ``rate`` (packets per second) defaults to 1,000 and is capped at 10,000 so that one scan
cannot flood a tenant's uplink. ``--wait 3`` keeps the tail short (masscan waits 10 s for late replies by
default).

masscan has no ``--`` end-of-options marker, so the target is checked to be an IP address or network before it
reaches the command line. Results go to ``masscan.json`` (``-oJ``). masscan prints its progress line (``rate:
..., 42.00% done``) to standard error, with carriage returns; ``on_line`` reads it, so progress shows wherever
the runner streams stderr. masscan exits 0 after some failures ("FAIL: ..."), which ``problems`` catches.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Any

from engines.base import Engine, EngineJob, LiveEvent
from engines.errors import EngineFailed
from engines.masscan.parse import parse as parse_report
from engines.options import Option, OptionSchema, OptionTypeError
from engines.ports import check_ports, format_ports, parse_ports, subtract_ports
from engines.process import ProcessResult
from engines.records import Record

REPORT = "masscan.json"
WAIT_S = 3
DEFAULT_RATE = 1000
MAX_RATE = 10000

_PROGRESS = re.compile(r"(?P<pct>\d+(?:\.\d+)?)% done")
_DISCOVERED = re.compile(r"Discovered open port (\d+)/(tcp|udp|sctp) on (\S+)")

SCHEMA = OptionSchema((
    Option("ports", str, description="Ports to scan (e.g. 22,80,443 or 1-65535); required", check=check_ports,
           max_length=4000),
    Option("rate", int, DEFAULT_RATE, "Packets per second", minimum=1, maximum=MAX_RATE),
))


class MasscanEngine(Engine):
    name = "masscan"
    category = "network"
    description = "Fast asynchronous TCP port scan of addresses and networks (needs a privileged worker)."
    target_types = frozenset({"ip", "network"})
    schema = SCHEMA
    default_timeout_s = 1800

    def validate_options(self, raw: Any, *, target_type: str, non_production: bool = False) -> dict[str, Any]:
        options = self.schema.validate(raw)
        if "ports" not in options:
            raise OptionTypeError("ports", "is required (for example 1-1024)")
        return options

    def needs_privileges(self, options: dict[str, Any]) -> bool:
        return True

    def build_argv(self, job: EngineJob) -> list[str]:
        target = job.network_target
        try:
            ipaddress.ip_network(target, strict=False)
        except ValueError:
            raise EngineFailed(f"masscan needs an IP address or network, not {target!r}") from None
        excluded = parse_ports(job.excluded_ports) if job.excluded_ports else []
        ranges = subtract_ports(parse_ports(job.options["ports"]), excluded)
        if not ranges:
            raise EngineFailed("every requested port is excluded by this installation")
        # One retransmission: masscan sends a single SYN per port by default, so one lost packet (a busy
        # link, a neighbour entry still resolving) silently loses an open port.
        return [job.binary, "-p", format_ports(ranges), "--rate", str(job.options["rate"]), "--retries", "1",
                "--wait", str(WAIT_S), "-oJ", str(job.workdir / REPORT), target]

    def on_line(self, line: str) -> list[LiveEvent]:
        events: list[LiveEvent] = []
        percents = [float(match.group("pct")) for match in _PROGRESS.finditer(line)]
        for match in _DISCOVERED.finditer(line):
            events.append(LiveEvent("port_found", {"ip": match.group(3), "port": int(match.group(1)),
                                                   "protocol": match.group(2)}))
        if percents:
            percent = min(99, int(percents[-1]))
            events.append(LiveEvent("progress", {"percent": percent, "tool_phase": "SYN scan"}))
        return events

    def parse(self, job: EngineJob) -> Iterator[Record]:
        path = job.workdir / REPORT
        if not path.exists():
            raise EngineFailed("masscan wrote no report")
        return parse_report(path)

    def problems(self, job: EngineJob, result: ProcessResult) -> list[str]:
        failures = [line.strip() for line in result.stderr_tail.splitlines() if "FAIL" in line]
        if failures:
            return failures[-2:]
        if not (job.workdir / REPORT).exists():
            return ["masscan exited 0 but wrote no report"]
        return []
