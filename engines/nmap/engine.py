"""nmap: host discovery, TCP/UDP port scan, service and OS detection, NSE scripts (seed 002's table).

Runs without root as a TCP connect scan (-sT); UDP (-sU) and OS detection (-O) need raw sockets and run
privileged. Names are never resolved by nmap (-n); a loopback-policy name is handed over as its pinned
address. NSE scripts come only from an allow-list, and categories that reach third parties or the local
broadcast domain (external, broadcast, dos) are always excluded.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Any

from engines.base import Engine, EngineJob, LiveEvent
from engines.errors import EngineFailed
from engines.options import Option, OptionSchema, OptionTypeError
from engines.ports import check_ports, format_ports, parse_ports, subtract_ports
from engines.records import Record
from engines.nmap.parse import parse as parse_xml

NSE_CATEGORIES = ("auth", "default", "discovery", "safe", "version", "vuln")
NSE_SCRIPTS = ("banner", "ssl-cert", "ssl-enum-ciphers", "http-title", "http-headers", "http-server-header",
               "ssh-hostkey", "ssl-date")
NSE_NEVER = "external or broadcast or dos"

_DISCOVERED = re.compile(r"^Discovered open port (\d+)/(tcp|udp|sctp) on (\S+)")
_PROGRESS = re.compile(r"^(?P<phase>[A-Za-z ]+?) Timing: About (?P<pct>\d+(?:\.\d+)?)% done")
# nmap reports each phase's percent separately; they are folded into one 0-99 bar with these spans.
_PHASE_SPANS = {
    "Ping Scan": (0, 5), "Connect Scan": (5, 70), "SYN Stealth Scan": (5, 70), "UDP Scan": (5, 70),
    "Service scan": (70, 90), "OS detection": (90, 94), "NSE": (94, 99), "Script scan": (94, 99),
}

SCHEMA = OptionSchema((
    Option("ports", str, "1-1024", "Port range (e.g. 22,80,443 or 1-1024 or 1-65535)", check=check_ports,
           max_length=4000),
    Option("timing", str, "T3", "Timing template T0 (paranoid) to T5 (insane)",
           choices=("T0", "T1", "T2", "T3", "T4", "T5")),
    Option("serviceDetection", bool, True, "Service/version detection (-sV)"),
    Option("osDetection", bool, False, "OS identification (-O); needs a privileged worker"),
    Option("scriptScan", bool, False, "NSE script scanning"),
    Option("scripts", list, [], "NSE script categories or allowed scripts",
           choices=NSE_CATEGORIES + NSE_SCRIPTS, max_items=len(NSE_CATEGORIES + NSE_SCRIPTS)),
    Option("udpScan", bool, False, "Include UDP scanning (-sU); needs a privileged worker"),
    Option("topPorts", int, description="Scan only the top N most common ports", minimum=1, maximum=65535),
    Option("minRate", int, description="Send at least this many packets per second", minimum=1,
           maximum=100000),
    Option("maxRate", int, description="Send at most this many packets per second", minimum=1, maximum=100000),
    Option("hostTimeout", int, description="Give up on a host after this many seconds", minimum=1,
           maximum=86400),
    Option("scanTechnique", str, "connect", "connect (-sT, unprivileged) or syn (-sS, half-open; needs a "
           "privileged worker)", choices=("connect", "syn")),
    Option("maxParallelism", int, description="At most this many probes in flight (--max-parallelism)",
           minimum=1, maximum=1024),
))


class NmapEngine(Engine):
    name = "nmap"
    category = "network"
    description = "Host discovery, port scanning, service detection and OS identification."
    target_types = frozenset({"host", "ip", "network", "domain"})
    schema = SCHEMA
    default_timeout_s = 1800

    def validate_options(self, raw: Any, *, target_type: str, non_production: bool = False) -> dict[str, Any]:
        options = self.schema.validate(raw)
        if options.get("scripts") and not options["scriptScan"]:
            raise OptionTypeError("scripts", "needs scriptScan: true")
        if options.get("minRate") and options.get("maxRate") and options["minRate"] > options["maxRate"]:
            raise OptionTypeError("minRate", "must not exceed maxRate")
        return options

    def needs_privileges(self, options: dict[str, Any]) -> bool:
        return bool(options.get("osDetection") or options.get("udpScan")
                    or options.get("scanTechnique") == "syn")

    def build_argv(self, job: EngineJob) -> list[str]:
        options = job.options
        argv = [job.binary, "-n", "-v", "--stats-every", "2s", f"-{options['timing']}"]
        argv += ["-sS" if options["scanTechnique"] == "syn" else "-sT"] + (["-sU"] if options["udpScan"] else [])
        if job.target_type != "network":
            argv.append("-Pn")
        if _is_ipv6(job.network_target):
            argv.append("-6")
        argv += self._port_args(job)
        if options["serviceDetection"]:
            argv.append("-sV")
        if options["osDetection"]:
            argv.append("-O")
        if options["scriptScan"]:
            chosen = options["scripts"] or ["default"]
            argv += ["--script", f"({' or '.join(chosen)}) and not ({NSE_NEVER})"]
        for flag, key in (("--min-rate", "minRate"), ("--max-rate", "maxRate")):
            if options.get(key):
                argv += [flag, str(options[key])]
        if options.get("maxParallelism"):
            argv += ["--max-parallelism", str(options["maxParallelism"])]
        if options.get("hostTimeout"):
            argv += ["--host-timeout", f"{options['hostTimeout']}s"]
        argv += ["-oX", str(job.workdir / "nmap.xml"), "--", job.network_target]
        return argv

    def _port_args(self, job: EngineJob) -> list[str]:
        excluded = parse_ports(job.excluded_ports) if job.excluded_ports else []
        if job.options.get("topPorts"):
            args = ["--top-ports", str(job.options["topPorts"])]
            return args + (["--exclude-ports", format_ports(excluded)] if excluded else [])
        ranges = subtract_ports(parse_ports(job.options["ports"]), excluded)
        if not ranges:
            raise EngineFailed("every requested port is excluded by this installation")
        return ["-p", format_ports(ranges)]

    def on_line(self, line: str) -> list[LiveEvent]:
        if match := _DISCOVERED.match(line):
            port, protocol, ip = int(match.group(1)), match.group(2), match.group(3)
            return [LiveEvent("port_found", {"ip": ip, "port": port, "protocol": protocol})]
        if match := _PROGRESS.match(line.strip()):
            low, high = _PHASE_SPANS.get(match.group("phase").strip(), (0, 99))
            percent = low + (high - low) * float(match.group("pct")) / 100
            return [LiveEvent("progress", {"percent": int(percent), "tool_phase": match.group("phase")})]
        return []

    def parse(self, job: EngineJob) -> Iterator[Record]:
        path = job.workdir / "nmap.xml"
        if not path.exists():
            raise EngineFailed("nmap wrote no XML report")
        return parse_xml(path)


def _is_ipv6(text: str) -> bool:
    try:
        return ipaddress.ip_network(text, strict=False).version == 6
    except ValueError:
        return False
