"""theHarvester: passive OSINT on a domain (e-mail addresses, subdomains, IPs) from public sources (seed 002).

theHarvester never connects to the target: it asks third-party sources (search engines, certificate logs,
passive DNS) about the domain *name*. The command line therefore carries ``job.target`` itself; a pinned
address would be a meaningless search term. Only ``dnsLookup`` and ``dnsBrute`` make it resolve names, through
the worker's resolver, which is what those options are for.

Sources come from an allow-list of theHarvester 4.x source names (``Core.get_supportedengines()``). The
default ("all public", seed 002) is the subset that needs no API key: the worker has no api-keys.yaml (HOME is
the job's workdir), so keyed sources would only print "missing key". The seed's own example names ``google``
and ``bing``, which theHarvester 4.x removed: they are accepted (a client written for seed 002 sends them)
and left off the command line, since the installed tool would reject the whole list for them; a request of
retired sources only runs the public ones.

``-f <workdir>/harvester`` writes ``harvester.json`` and ``harvester.xml``; ``parse`` reads the JSON, else the
XML. theHarvester prints no progress percentage, so ``on_line`` stays the base class's no-op. It exits 0 even
when it rejected the source list or wrote nothing, which ``problems`` catches.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engines.base import Engine, EngineJob
from engines.errors import EngineFailed
from engines.harvester.parse import parse as parse_report
from engines.options import Option, OptionSchema, OptionTypeError
from engines.process import ProcessResult
from engines.records import Record

BASENAME = "harvester"
PUBLIC_SOURCES = (
    "baidu", "brave", "certspotter", "commoncrawl", "crtsh", "duckduckgo", "hackertarget", "hudsonrock",
    "otx", "rapiddns", "robtex", "subdomaincenter", "thc", "threatcrowd", "urlscan", "waybackarchive",
    "yahoo",
)
KEYED_SOURCES = (
    "bevigil", "bufferoverun", "builtwith", "censys", "chaos", "criminalip", "dehashed", "dnsdumpster",
    "fofa", "fullhunt", "github-code", "gitlab", "haveibeenpwned", "hunter", "hunterhow", "intelx", "leakix",
    "leaklookup", "linkedin", "linkedin_links", "netcraft", "netlas", "onyphe", "pentesttools",
    "projectdiscovery", "rocketreach", "securityscorecard", "securityTrails", "shodan", "subdomainfinderc99",
    "tomba", "venacus", "virustotal", "whoisxml", "windvane", "zoomeye",
)
RETIRED_SOURCES = ("google", "bing")  # in seed 002's example; gone from theHarvester 4.x
SOURCES = PUBLIC_SOURCES + KEYED_SOURCES + RETIRED_SOURCES

SCHEMA = OptionSchema((
    Option("sources", list, list(PUBLIC_SOURCES),
           "Data sources to query (default: every source that needs no API key)", choices=SOURCES,
           max_items=len(SOURCES)),
    Option("limit", int, 200, "Maximum results per source", minimum=1, maximum=5000),
    Option("dnsLookup", bool, False, "Resolve the discovered host names (-n)"),
    Option("dnsBrute", bool, False, "Brute-force subdomains through DNS (-c)"),
))


class HarvesterEngine(Engine):
    name = "harvester"
    binary_name = "theHarvester"
    category = "osint"
    description = "E-mail addresses, subdomains and IPs of a domain from public sources."
    target_types = frozenset({"domain"})
    schema = SCHEMA
    default_timeout_s = 1800

    def validate_options(self, raw: Any, *, target_type: str, non_production: bool = False) -> dict[str, Any]:
        options = self.schema.validate(raw)
        if not options["sources"]:
            raise OptionTypeError("sources", "must name at least one source")
        options["sources"] = list(dict.fromkeys(options["sources"]))
        return options

    def build_argv(self, job: EngineJob) -> list[str]:
        options = job.options
        sources = [name for name in options["sources"] if name not in RETIRED_SOURCES] or list(PUBLIC_SOURCES)
        argv = [job.binary, "-d", job.target, "-b", ",".join(sources), "-l", str(options["limit"])]
        if options["dnsLookup"]:
            argv.append("-n")
        if options["dnsBrute"]:
            argv.append("-c")
        return [*argv, "-f", str(job.workdir / BASENAME)]

    def parse(self, job: EngineJob) -> Iterator[Record]:
        for suffix in (".json", ".xml"):
            path = job.workdir / f"{BASENAME}{suffix}"
            if path.exists():
                return parse_report(path)
        raise EngineFailed("theHarvester wrote no report")

    def problems(self, job: EngineJob, result: ProcessResult) -> list[str]:
        output = f"{result.stdout_tail}\n{result.stderr_tail}"
        if "Invalid source" in output or "invalid source" in output:
            return ["theHarvester refused the source list"]
        if not any((job.workdir / f"{BASENAME}{suffix}").exists() for suffix in (".json", ".xml")):
            return ["theHarvester exited 0 but wrote no report"]
        return []
