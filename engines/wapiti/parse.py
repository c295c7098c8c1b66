"""Parse Wapiti's JSON report (``wapiti -f json``) into Lantern records.

Format handled: one JSON object with ``classifications`` (category name -> desc/sol/ref/wstg),
``vulnerabilities``, ``anomalies`` and ``additionals`` (each: category name -> list of items with method,
path, info, level, parameter, http_request, curl_command, module, wstg) and ``infos`` (target, version, scope,
crawled pages).

Records:

* HostRecord and ServiceRecord for ``infos.target`` when it is an http(s) URL (the ip is empty unless the
  target is an IP literal; the service is http or https on the URL's port).
* One FindingRecord per item of ``vulnerabilities`` (category "vulnerability"), ``anomalies`` (category
  "anomaly": wapiti's own errors and timeouts while attacking, e.g. a 500 answer or a request that took too
  long; they are kept because a 500 on a crafted request often points at a flaw) and ``additionals`` (category
  "additional": fingerprints, HTTP methods, TLS notes).

Severity from wapiti's ``level``: 4 -> critical, 3 -> high, 2 -> medium, 1 -> low, 0 -> info. An item without
a level is low when it is a vulnerability or an anomaly and info when it is an additional.

rule_id is the category slug (``clickjacking-protection``), the title the category name, CWE ids come from the
classification's ``ref`` titles (``CWE-530: ...``), CVE ids from the item's info and the ref titles
(Log4Shell), the location is the request URL (path joined to the target) plus the parameter when wapiti names
one, and the evidence is ``http_request`` (``curl_command`` when it is missing). An empty file yields nothing;
JSON that is not a wapiti report raises ParseError.
"""

from __future__ import annotations

import ipaddress
import json
import pathlib
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from engines.errors import ParseError
from engines.records import FindingRecord, HostRecord, Record, ServiceRecord, Severity, clip

ENGINE = "wapiti"

LEVEL_MAP: dict[int, Severity] = {
    4: Severity.CRITICAL,
    3: Severity.HIGH,
    2: Severity.MEDIUM,
    1: Severity.LOW,
    0: Severity.INFO,
}
SECTIONS: dict[str, tuple[str, Severity]] = {
    "vulnerabilities": ("vulnerability", Severity.LOW),
    "anomalies": ("anomaly", Severity.LOW),
    "additionals": ("additional", Severity.INFO),
}
_CWE = re.compile(r"\bCWE-(\d+)\b", re.IGNORECASE)
_CVE = re.compile(r"\bCVE-\d{4}-\d{4,}\b", re.IGNORECASE)
_CWE_URL = re.compile(r"cwe\.mitre\.org/data/definitions/(\d+)")
_SLUG = re.compile(r"[^a-z0-9]+")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse(path: pathlib.Path) -> Iterator[Record]:
    """Yield the target host and service, then one finding per reported item."""
    raw = path.read_bytes()
    if not raw.strip():
        return
    report = _load(raw, path.name)
    target = _target(report)
    yield from _target_records(target)
    classifications = report.get("classifications") or {}
    for section, (category, default) in SECTIONS.items():
        for name, items in _section(report, section, path.name).items():
            for item in items:
                yield _finding(item, name, classifications.get(name) or {}, target, category, default)


def _load(raw: bytes, name: str) -> dict[str, Any]:
    """Decode the report and check it has wapiti's top-level keys."""
    try:
        report = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParseError(f"{name}: not a wapiti JSON report (invalid JSON: {exc})") from exc
    if not isinstance(report, dict) or "vulnerabilities" not in report:
        raise ParseError(f"{name}: not a wapiti JSON report (no 'vulnerabilities' object)")
    return report


def _section(report: dict[str, Any], section: str, name: str) -> dict[str, list[dict[str, Any]]]:
    """One of vulnerabilities/anomalies/additionals, checked to be category -> list of objects."""
    value = report.get(section) or {}
    if not isinstance(value, dict):
        raise ParseError(f"{name}: wapiti '{section}' must map category names to lists")
    for category, items in value.items():
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ParseError(f"{name}: wapiti '{section}.{category}' must be a list of objects")
    return value


class Target:
    """The scanned URL split into what host, service and finding records need."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.url = url
        self.scheme = parts.scheme.lower()
        self.hostname = (parts.hostname or "").lower()
        try:
            explicit_port = parts.port
        except ValueError:
            explicit_port = None
        self.port = explicit_port or _DEFAULT_PORTS.get(self.scheme)
        self.origin = f"{self.scheme}://{parts.netloc}" if self.hostname else ""

    @property
    def is_ip(self) -> bool:
        try:
            ipaddress.ip_address(self.hostname)
        except ValueError:
            return False
        return True


def _target(report: dict[str, Any]) -> Target:
    infos = report.get("infos") or {}
    return Target(str(infos.get("target") or "") if isinstance(infos, dict) else "")


def _target_records(target: Target) -> Iterator[Record]:
    """Host and web service of the target; nothing when the target is not an http(s) URL."""
    if not target.hostname or target.scheme not in _DEFAULT_PORTS or target.port is None:
        return
    if target.is_ip:
        yield HostRecord(ip=target.hostname)
    else:
        yield HostRecord(ip="", hostname=target.hostname)
    yield ServiceRecord(host=target.hostname, port=target.port, protocol="tcp", service=target.scheme)


def _severity(level: Any, default: Severity) -> Severity:
    """wapiti levels 0..4; anything else (missing, text) takes the section's default."""
    try:
        return LEVEL_MAP.get(int(level), default)
    except (TypeError, ValueError):
        return default


def _location(item: dict[str, Any], target: Target) -> str:
    """The request URL (wapiti 3 gives a path, older versions a full URL) plus the tested parameter."""
    path = str(item.get("path") or "")
    url = urljoin(target.origin + "/", path) if target.origin and "://" not in path else path
    parameter = item.get("parameter")
    if parameter:
        return f"{url} ({item.get('method') or 'GET'} parameter '{parameter}')"
    return url


def _cwe_ids(classification: dict[str, Any]) -> tuple[str, ...]:
    """CWE ids named in the classification's reference titles (and URLs, in case a title omits it)."""
    refs = classification.get("ref") or {}
    texts = [str(text) for text in ([*refs.keys(), *refs.values()] if isinstance(refs, dict) else refs)]
    found = [f"CWE-{num}" for pattern in (_CWE, _CWE_URL) for text in texts for num in pattern.findall(text)]
    return tuple(dict.fromkeys(found))


def _cve_ids(info: str, classification: dict[str, Any]) -> tuple[str, ...]:
    """CVE ids in the item's message (vulnerable software) or the category's reference titles (Log4Shell)."""
    refs = classification.get("ref") or {}
    titles = " ".join(str(title) for title in refs) if isinstance(refs, dict) else ""
    return tuple(dict.fromkeys(cve.upper() for cve in _CVE.findall(f"{info} {titles}")))


def _references(classification: dict[str, Any]) -> tuple[str, ...]:
    refs = classification.get("ref") or {}
    urls = refs.values() if isinstance(refs, dict) else refs
    return tuple(dict.fromkeys(str(url) for url in urls if url))


def _slug(name: str) -> str:
    return _SLUG.sub("-", name.lower()).strip("-")


def _finding(
    item: dict[str, Any],
    name: str,
    classification: dict[str, Any],
    target: Target,
    category: str,
    default: Severity,
) -> FindingRecord:
    """One reported item; the category's classification gives description, remediation and references."""
    info = str(item.get("info") or "").strip()
    description = "\n\n".join(part for part in (info, str(classification.get("desc") or "").strip()) if part)
    wstg = [*(item.get("wstg") or []), *(classification.get("wstg") or [])]
    return FindingRecord(
        engine=ENGINE,
        rule_id=_slug(name),
        title=clip(name, 500),
        severity=_severity(item.get("level"), default),
        host=target.hostname,
        port=target.port,
        protocol="tcp" if target.port is not None else "",
        location=_location(item, target),
        cve_ids=_cve_ids(info, classification),
        cwe_ids=_cwe_ids(classification),
        description=clip(description),
        remediation=clip(classification.get("sol")),
        evidence=clip(item.get("http_request") or item.get("curl_command")),
        references=_references(classification),
        category=category,
        extra={
            "info": clip(info, 1000),
            "method": str(item.get("method") or ""),
            "parameter": str(item.get("parameter") or ""),
            "module": str(item.get("module") or ""),
            "referer": str(item.get("referer") or ""),
            "curl_command": clip(item.get("curl_command"), 1000),
            "wstg": ",".join(dict.fromkeys(str(ref) for ref in wstg)),
        },
    )
