"""Parse OWASP ZAP reports into Lantern records.

Formats handled (chosen by the first significant byte, not by file name)
------------------------------------------------------------------------
* Traditional XML (``-x report.xml``, "traditional-xml" and "traditional-xml-plus" templates, ZAP 2.9 to
  2.16): ``<OWASPZAPReport>`` with ``<site>`` elements holding ``<alertitem>`` elements and their
  ``<instance>`` list. Streamed with defusedxml's iterparse; each alert is freed once read, so large
  request/response bodies of the "plus" variant do not accumulate.
* Traditional JSON (``-J report.json``, "traditional-json(-plus)"): ``{"site": [{"@name", "@host", "@port",
  "@ssl", "alerts": [...]}]}``, with or without ``@programName``. Loaded whole (the standard library has no
  streaming JSON reader). The ZAP API's ``/JSON/core/view/alerts/`` list is a different format and is
  rejected.

Records
-------
HostRecord and ServiceRecord per site (also for a site without alerts: ZAP lists sites it reached), then one
FindingRecord per (alert, instance URI): instances at the same URI (different parameters or methods, or
repeated identical uri+method+param entries) are merged into that one finding, whose evidence lists each
distinct method/param/attack/evidence once. This matches the fingerprint, which is keyed on the URI. URIs are
normalised (lower-case scheme and host, default port dropped, empty path "/"), so "https://h" and "https://h/"
are one. rule_id is ``alertRef`` (``pluginid`` or, for rules with several alerts, ``pluginid-variant``), else
``pluginid``. Rules that still share one alertRef between different alerts (10049 "Non-Storable" / "Storable"
content, up to ZAP 2.14 at least) give those alerts one fingerprint on the same URI. CWE from ``cweid`` (as
"CWE-79"; -1 and 0 mean none), CVE ids from the alert name, references and tags. HTML in desc, solution,
reference and otherinfo is reduced to text; evidence is kept verbatim.

Severity mapping
----------------
riskcode 3 high, 2 medium, 1 low, 0 info (ZAP has no critical). confidence (0 false positive, 1 low, 2 medium,
3 high, 4 user confirmed) is kept in ``extra["confidence"]``; it does not move the severity, except confidence
0, which a ZAP user sets to mark a false positive: such an alert is reported as info so that it raises no
alarm, and ``extra["false_positive"]`` is "true".
"""

from __future__ import annotations

import html
import ipaddress
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XmlSyntaxError

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException

from engines.errors import ParseError
from engines.records import FindingRecord, HostRecord, Record, ServiceRecord, Severity, clip, normalise_url

ENGINE = "zap"

_RISKS = {0: Severity.INFO, 1: Severity.LOW, 2: Severity.MEDIUM, 3: Severity.HIGH}
_CONFIDENCES = {0: "false-positive", 1: "low", 2: "medium", 3: "high", 4: "confirmed"}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CVE_RE = re.compile(r"\bCVE-\d{4}-\d{4,}\b", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]*>")
_BREAK_RE = re.compile(r"</p\s*>|<br\s*/?>", re.IGNORECASE)
_URL_RE = re.compile(r"https?://[^\s<>\"']+")
_INSTANCE_FIELDS = ("uri", "method", "param", "attack", "evidence", "otherinfo")


@dataclass(frozen=True, slots=True)
class _Site:
    host: str
    port: int | None
    scheme: str


@dataclass(frozen=True, slots=True)
class _Alert:
    """One ZAP alert, whichever format it came from; `instances` are dicts of the _INSTANCE_FIELDS."""

    fields: dict[str, str]
    instances: list[dict[str, str]]
    tags: tuple[str, ...]


def parse(path: Path) -> Iterator[Record]:
    """Yield the records of a ZAP traditional XML or JSON report; ParseError when the file is neither."""
    first = _first_significant_byte(path)
    if first is None:
        return
    if first == b"<":
        yield from _parse_xml(path)
    elif first == b"{":
        yield from _parse_json(path)
    else:
        raise ParseError(f"not a ZAP report: expected XML or a JSON object, file starts with {first!r}")


def _first_significant_byte(path: Path) -> bytes | None:
    with path.open("rb") as handle:
        while chunk := handle.read(4096):
            head = chunk.lstrip(b"\xef\xbb\xbf").lstrip()
            if head:
                return head[:1]
    return None


# --- XML ----------------------------------------------------------------------------------------------------


def _parse_xml(path: Path) -> Iterator[Record]:
    site: _Site | None = None
    try:
        events = DefusedET.iterparse(str(path), events=("start", "end"))
        _, root = next(events)
        if root.tag != "OWASPZAPReport":
            raise ParseError(f"not a ZAP XML report: root element is <{root.tag}>, expected <OWASPZAPReport>")
        for event, elem in events:
            if event == "start" and elem.tag == "site":
                site = _site(elem.get("name", ""), elem.get("host", ""), elem.get("port", ""))
                yield from _site_records(site)
            elif event == "end" and elem.tag == "alertitem":
                if site is None:
                    raise ParseError("ZAP XML: <alertitem> outside <site>")
                yield from _findings(_xml_alert(elem), site)
                elem.clear()
    except XmlSyntaxError as exc:
        line, column = exc.position
        raise ParseError(f"ZAP XML is malformed at line {line}, column {column}: {exc.msg}") from exc
    except DefusedXmlException as exc:
        raise ParseError(f"ZAP XML rejected as unsafe: {exc}") from exc


def _xml_alert(elem: Element) -> _Alert:
    fields = {child.tag: (child.text or "") for child in elem if len(child) == 0}
    instances = [
        {name: (instance.findtext(name) or "") for name in _INSTANCE_FIELDS}
        for instance in elem.iterfind("instances/instance")
    ]
    pairs = ((tag.findtext("tag"), tag.findtext("link")) for tag in elem.iterfind("tags/tag"))
    tags = tuple(text for pair in pairs for text in pair if text)
    return _Alert(fields=fields, instances=instances, tags=tags)


# --- JSON ---------------------------------------------------------------------------------------------------


def _parse_json(path: Path) -> Iterator[Record]:
    try:
        document = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ParseError(f"ZAP JSON is not UTF-8 text: {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ParseError(f"ZAP JSON is malformed at {where}: {exc.msg}") from exc
    sites = document.get("site") if isinstance(document, dict) else None
    if isinstance(sites, dict):
        sites = [sites]
    if not isinstance(sites, list):
        raise ParseError("not a ZAP traditional JSON report: no 'site' list")
    for index, raw in enumerate(sites):
        if not isinstance(raw, dict) or not isinstance(raw.get("alerts", []), list):
            raise ParseError(f"ZAP JSON: site {index} is not an object with an 'alerts' list")
        site = _site(str(raw.get("@name", "")), str(raw.get("@host", "")), str(raw.get("@port", "")))
        yield from _site_records(site)
        for alert in raw.get("alerts", []):
            yield from _findings(_json_alert(alert, index), site)


def _json_alert(raw: Any, site_index: int) -> _Alert:
    if not isinstance(raw, dict) or not isinstance(raw.get("instances", []), list):
        raise ParseError(f"ZAP JSON: site {site_index} has an alert that is not an object with 'instances'")
    fields = {key: str(value) for key, value in raw.items() if isinstance(value, (str, int, float))}
    instances = [
        {name: str(instance.get(name) or "") for name in _INSTANCE_FIELDS}
        for instance in raw.get("instances", [])
        if isinstance(instance, dict)
    ]
    tags = tuple(str(v) for tag in raw.get("tags") or [] if isinstance(tag, dict) for v in tag.values() if v)
    return _Alert(fields=fields, instances=instances, tags=tags)


# --- records ------------------------------------------------------------------------------------------------


def _site(name: str, host: str, port: str) -> _Site:
    """Site attributes, falling back to the site URL when host or port is missing."""
    parsed = _split(name)
    scheme = parsed[0] or "http"
    host = host.strip().lower() or parsed[1]
    if not host:
        raise ParseError(f"ZAP report: site {name!r} has no host")
    return _Site(host=host, port=_port(port) or parsed[2], scheme=scheme)


def _split(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port with the scheme's default); empty values when the URL cannot be read."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return "", "", None
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


def _port(raw: str) -> int | None:
    if not raw.strip():
        return None
    try:
        port = int(raw)
    except ValueError as exc:
        raise ParseError(f"ZAP report: port {raw!r} is not a number") from exc
    if not 0 < port < 65536:
        raise ParseError(f"ZAP report: port {port} is out of range")
    return port


def _site_records(site: _Site) -> Iterator[Record]:
    try:
        ipaddress.ip_address(site.host)
        yield HostRecord(ip=site.host)
    except ValueError:
        yield HostRecord(ip="", hostname=site.host)
    if site.port is not None:
        yield ServiceRecord(host=site.host, port=site.port, service=site.scheme)


def _findings(alert: _Alert, site: _Site) -> Iterator[FindingRecord]:
    """One finding per distinct normalised instance URI, in report order."""
    by_uri: dict[str, list[dict[str, str]]] = {}
    for instance in alert.instances or [_legacy_instance(alert.fields)]:
        uri = instance["uri"].strip() or f"{site.scheme}://{site.host}/"
        by_uri.setdefault(normalise_url(uri), []).append(instance)
    for location, instances in by_uri.items():
        yield _finding(alert, site, location, instances)


def _legacy_instance(fields: dict[str, str]) -> dict[str, str]:
    """Reports before ZAP 2.6 put one uri/param/evidence on the alert itself instead of an instance list."""
    return {name: fields.get(name, "") for name in _INSTANCE_FIELDS}


def _finding(alert: _Alert, site: _Site, location: str, instances: list[dict[str, str]]) -> FindingRecord:
    fields = alert.fields
    name = fields.get("name") or fields.get("alert") or "ZAP alert"
    rule_id = fields.get("alertRef") or fields.get("pluginid") or ""
    if not rule_id:
        raise ParseError(f"ZAP report: alert {name!r} has neither alertRef nor pluginid")
    severity, confidence = _severity(fields, name)
    scheme, host, port = _split(location)
    references = tuple(dict.fromkeys(_URL_RE.findall(_html_text(fields.get("reference", "")))))
    cve_text = " ".join((name, fields.get("reference", ""), *alert.tags))
    params = dict.fromkeys(i["param"] for i in instances if i["param"])
    extra = {
        "pluginid": fields.get("pluginid", ""),
        "confidence": confidence,
        "false_positive": "true" if confidence == "false-positive" else "",
        "riskdesc": fields.get("riskdesc", ""),
        "wascid": _positive(fields.get("wascid")),
        "params": clip(", ".join(params), 1000),
        "methods": ", ".join(dict.fromkeys(i["method"] for i in instances if i["method"])),
        "otherinfo": clip(_first_otherinfo(instances) or _html_text(fields.get("otherinfo", ""))),
    }
    return FindingRecord(
        engine=ENGINE,
        rule_id=rule_id,
        title=clip(name, 300),
        severity=severity,
        host=host or site.host,
        port=port or site.port,
        protocol="tcp",
        location=clip(location, 2000),
        cve_ids=tuple(dict.fromkeys(cve.upper() for cve in _CVE_RE.findall(cve_text))),
        cwe_ids=(f"CWE-{cwe}",) if (cwe := _positive(fields.get("cweid"))) else (),
        description=clip(_html_text(fields.get("desc", ""))),
        remediation=clip(_html_text(fields.get("solution", ""))),
        evidence=clip(_evidence(instances)),
        references=tuple(clip(ref, 2000) for ref in references),
        category="",
        extra={key: value for key, value in extra.items() if value},
    )


def _severity(fields: dict[str, str], name: str) -> tuple[Severity, str]:
    """riskcode decides; a user-marked false positive (confidence 0) is demoted to info."""
    raw_risk = fields.get("riskcode", "").strip()
    if not raw_risk.isdigit() or int(raw_risk) not in _RISKS:
        raise ParseError(f"ZAP report: alert {name!r} has riskcode {raw_risk!r}, expected 0 to 3")
    raw_confidence = fields.get("confidence", "").strip()
    confidence = _CONFIDENCES.get(int(raw_confidence), "") if raw_confidence.isdigit() else ""
    if confidence == "false-positive":
        return Severity.INFO, confidence
    return _RISKS[int(raw_risk)], confidence


def _positive(raw: str | None) -> str:
    """ZAP writes -1 or 0 for "no CWE/WASC id"."""
    value = (raw or "").strip()
    return value if value.isdigit() and int(value) > 0 else ""


def _evidence(instances: Iterable[dict[str, str]]) -> str:
    """Each distinct method/param/attack/evidence once: repeated identical instances add nothing.

    Each value is clipped on its own so that one long fuzzing payload cannot push the other instances out.
    """
    lines = []
    for instance in instances:
        labels = ("param", "attack", "evidence")
        details = [f"{label}={clip(instance[label], 500)}" for label in labels if instance[label]]
        if details:
            lines.append(" ".join([instance["method"], *details]).strip())
    return "\n".join(dict.fromkeys(lines))


def _first_otherinfo(instances: Iterable[dict[str, str]]) -> str:
    """Per-instance otherinfo (ZAP 2.12+) describes this URI; the alert-level one describes only the first."""
    return next((_plain(i["otherinfo"]) for i in instances if i["otherinfo"].strip()), "")


def _html_text(raw: str) -> str:
    """ZAP's traditional reports put HTML paragraphs in desc/solution/reference; keep the text."""
    return _plain(html.unescape(_TAG_RE.sub("", _BREAK_RE.sub("\n", raw))))


def _plain(text: str) -> str:
    """Drop the indentation ZAP's XML pretty-printer adds to multi-line values."""
    return "\n".join(line.strip() for line in text.strip().splitlines() if line.strip())


