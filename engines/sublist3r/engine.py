"""Sublist3r: subdomain enumeration through search engines and passive DNS services (seed 002's table).

Every mode of Sublist3r queries the internet: its engines scrape Google, Bing, Yahoo, Baidu, Ask, Netcraft,
DNSdumpster, VirusTotal, ThreatCrowd, crt.sh and a passive DNS API, and ``bruteforce`` (subbrute) resolves
thousands of names through public resolvers. None of that can run on a machine without internet access, so it
is never run live in tests here: ``parse`` is tested on a file in Sublist3r's documented ``-o`` format, made
by Sublist3r's own ``write_file``. Like theHarvester it never connects to the target for enumeration, so the
command line carries the domain name (``job.target``), not a pinned address; ``ports`` is the exception: it
makes Sublist3r open TCP connections to every subdomain it found, on those ports only (minus the
installation's excluded ports).

Sublist3r 1.0 (PyPI, 2020) runs on Python 3.11 in its own virtualenv. Its ``-b`` and ``-v`` flags take an
optional value, so nothing but another flag ever follows them on the command line; ``-t`` only sets subbrute's
thread count. It writes ``-o`` only when it found something, exits 0 even when every engine failed, and prints
no progress percentage (``on_line`` stays the base class's no-op): ``problems`` reads its output for the
failures it hides.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from engines.base import Engine, EngineJob
from engines.errors import EngineFailed
from engines.options import Option, OptionSchema, OptionTypeError
from engines.ports import parse_ports, subtract_ports
from engines.process import ProcessResult
from engines.records import AssetRecord, Record
from engines.sublist3r.parse import parse as parse_list

REPORT = "sublist3r.txt"
ENGINES = ("baidu", "yahoo", "google", "bing", "ask", "netcraft", "dnsdumpster", "virustotal", "threatcrowd",
           "ssl", "passivedns")
MAX_PORTS = 64

_NETWORK_FAILURE = re.compile(r"Max retries exceeded|Failed to resolve|NameResolutionError|"
                              r"Temporary failure in name resolution|Connection refused|"
                              r"Network is unreachable")


def check_port_list(spec: str) -> None:
    """Sublist3r reads ``-p`` as single ports separated by commas (a range would be skipped silently)."""
    parts = spec.split(",")
    if len(parts) > MAX_PORTS:
        raise ValueError(f"must list at most {MAX_PORTS} ports")
    for part in parts:
        if not part.isdigit() or not 1 <= int(part) <= 65535:
            raise ValueError(f"'{part}' is not a port between 1 and 65535 (ranges are not supported)")


SCHEMA = OptionSchema((
    Option("engines", list, list(ENGINES), "Search engines to use (default: all)", choices=ENGINES,
           max_items=len(ENGINES)),
    Option("bruteforce", bool, False, "Enable DNS brute force (subbrute)"),
    Option("ports", str, description="Scan discovered subdomains on these TCP ports (e.g. 80,443)",
           check=check_port_list, max_length=400),
    Option("threads", int, 10, "Concurrent threads (subbrute)", minimum=1, maximum=100),
))


class Sublist3rEngine(Engine):
    name = "sublist3r"
    category = "osint"
    description = "Subdomains of a domain from search engines and passive DNS services."
    target_types = frozenset({"domain"})
    schema = SCHEMA
    default_timeout_s = 1800

    def validate_options(self, raw: Any, *, target_type: str, non_production: bool = False) -> dict[str, Any]:
        options = self.schema.validate(raw)
        if not options["engines"]:
            raise OptionTypeError("engines", "must name at least one engine")
        options["engines"] = list(dict.fromkeys(options["engines"]))
        return options

    def build_argv(self, job: EngineJob) -> list[str]:
        options = job.options
        argv = [job.binary, "-d", job.target, "-n", "-t", str(options["threads"])]
        if set(options["engines"]) != set(ENGINES):
            argv += ["-e", ",".join(options["engines"])]
        if options["bruteforce"]:
            argv.append("-b")
        if options.get("ports"):
            argv += ["-p", self._ports(job)]
        return [*argv, "-o", str(job.workdir / REPORT)]

    def _ports(self, job: EngineJob) -> str:
        excluded = parse_ports(job.excluded_ports) if job.excluded_ports else []
        ranges = subtract_ports(parse_ports(job.options["ports"]), excluded)
        if not ranges:
            raise EngineFailed("every requested port is excluded by this installation")
        return ",".join(str(port) for low, high in ranges for port in range(low, high + 1))

    def parse(self, job: EngineJob) -> Iterator[Record]:
        """Subdomains of the target only: a name another domain's certificate dragged in is not theirs."""
        path = job.workdir / REPORT
        if not path.exists():
            return
        domain = job.target.lower().rstrip(".")
        for record in parse_list(path):
            if isinstance(record, AssetRecord) and _within(record.value, domain):
                yield record

    def problems(self, job: EngineJob, result: ProcessResult) -> list[str]:
        output = f"{result.stdout_tail}\n{result.stderr_tail}"
        if "Please enter a valid domain" in output:
            return [f"Sublist3r refused the domain {job.target!r}"]
        if "Error:" in result.stdout_tail and "usage" in output.lower():
            return ["Sublist3r refused its command line"]
        if not (job.workdir / REPORT).exists() and _NETWORK_FAILURE.search(output):
            return ["Sublist3r found nothing because it could not reach its sources (no internet access?)"]
        return []


def _within(name: str, domain: str) -> bool:
    return name == domain or name.endswith(f".{domain}")
