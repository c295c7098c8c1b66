"""Parse nikto reports into Lantern records.

Formats handled (chosen by the first significant byte, not by file name)
------------------------------------------------------------------------
* XML (``-Format xml``, nxmlversion 1.2, nikto 2.1.x to 2.5): ``<niktoscan>`` (possibly nested, as nikto
  writes when it appends to a file), one ``<scandetails>`` per host:port with ``<item>`` children and an
  optional ``<ssl>`` element. Streamed with defusedxml's iterparse; each item is freed once read.
* JSON (``-Format json``): nikto 2.5 writes a top-level array of host objects, older versions one host object;
  each has ``host``, ``ip``, ``port``, ``banner`` and ``vulnerabilities`` (``id``, ``method``, ``url``,
  ``msg``, optional ``references`` and ``OSVDB``). Loaded whole: nikto's JSON is small and has no streaming
  form.

Records
-------
HostRecord and ServiceRecord per scanned host:port (banner from the server banner), a CertificateRecord when
the XML carries ``<ssl>`` (subject from its ``info`` attribute, which nikto fills with the certificate
subject), and one FindingRecord per item. Items whose message starts with ``ERROR:`` (nikto's scan errors,
such as ``ERROR: Cannot resolve hostname``, reported with id 0) are scan failures, not findings: they yield
nothing, and a host with neither ip nor name yields no host or service either.

rule_id is the nikto id, qualified where nikto reuses one id for different checks so that their fingerprints
do not merge: ``:osvdb-<n>`` when the item has a non-zero OSVDB id (2.1.5 reports X-Frame-Options and the
DELETE method both as 999976) and ``:<header>`` when the message names a header as ``header '<name>'`` (999100
is every uncommon header). location is the item's URL (lower-case scheme and host, default port dropped).

Severity mapping
----------------
Nikto reports no severity. Every item is info unless its message matches one of these patterns (first match):

* medium, ``known-vulnerability``: a CVE id, or nikto's "is vulnerable to" phrasing (the XSS items of the
  2.1.5 fixture; the BREACH warning, CVE-2013-3587, CVSS 5.9).
* low, ``dangerous-method``: "may/could allow clients to" (PUT and DELETE enabled).
* low, ``sensitive-file``: authorization information (.htpasswd) or backup/cert files (nikto 2.5 links these
  to CWE-530).
* low, ``default-content``: a default manager/admin interface, default pages or files or credentials.
* low, ``cookie-flag``: a cookie without the httponly or secure flag (ZAP rates the same checks low).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XmlSyntaxError

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException

from engines.errors import ParseError
from engines.records import (
    CertificateRecord,
    clip,
    FindingRecord,
    HostRecord,
    normalise_url,
    Record,
    ServiceRecord,
    Severity,
)

ENGINE = "nikto"

_TLS_PORTS = frozenset({443, 8443})
_CVE_RE = re.compile(r"\bCVE-\d{4}-\d{4,}\b", re.IGNORECASE)
_CWE_LINK_RE = re.compile(r"cwe\.mitre\.org/data/definitions/(\d+)", re.IGNORECASE)
_HEADER_RE = re.compile(r"\bheader '([^']+)'", re.IGNORECASE)
_SEVERITY_RULES: tuple[tuple[Severity, str, re.Pattern[str]], ...] = (
    (Severity.MEDIUM, "known-vulnerability", re.compile(r"\bvulnerable to\b|\bCVE-\d{4}-\d{4,}", re.I)),
    (Severity.LOW, "dangerous-method", re.compile(r"\b(?:may|could) allow clients to\b", re.I)),
    (
        Severity.LOW,
        "sensitive-file",
        re.compile(r"authorization information|backup/cert file|\.htpasswd", re.I),
    ),
    (
        Severity.LOW,
        "default-content",
        re.compile(r"\bdefault\b.*\b(?:manager|admin|interface|pages?|files?|credentials|password)\b", re.I),
    ),
    (Severity.LOW, "cookie-flag", re.compile(r"\bcookie\b.*\bwithout the (?:httponly|secure) flag", re.I)),
)


@dataclass(frozen=True, slots=True)
class _Site:
    """The scanned host:port that every item of a scandetails/host object belongs to."""

    ip: str
    hostname: str
    port: int | None
    scheme: str
    banner: str

    @property
    def address(self) -> str:
        return self.ip or self.hostname


@dataclass(frozen=True, slots=True)
class _Item:
    """One nikto item, whichever format it came from."""

    nikto_id: str
    method: str
    uri: str
    message: str
    link: str = ""
    osvdb: str = ""
    references: tuple[str, ...] = ()


def parse(path: Path) -> Iterator[Record]:
    """Yield the records of a nikto XML or JSON report; ParseError when the file is neither."""
    first = _first_significant_byte(path)
    if first is None:
        return
    if first == b"<":
        yield from _parse_xml(path)
    elif first in (b"[", b"{"):
        yield from _parse_json(path)
    else:
        raise ParseError(f"not a nikto report: expected XML or JSON, file starts with {first!r}")


def _first_significant_byte(path: Path) -> bytes | None:
    with path.open("rb") as handle:
        while chunk := handle.read(4096):
            head = chunk.lstrip(b"\xef\xbb\xbf").lstrip()
            if head:
                return head[:1]
    return None


def _parse_xml(path: Path) -> Iterator[Record]:
    site: _Site | None = None
    try:
        events = DefusedET.iterparse(str(path), events=("start", "end"))
        _, root = next(events)
        if root.tag != "niktoscan":
            raise ParseError(f"not a nikto XML report: root element is <{root.tag}>, expected <niktoscan>")
        for event, elem in events:
            if event == "start" and elem.tag == "scandetails":
                site = _xml_site(elem)
                yield from _site_records(site)
            elif event == "start" and elem.tag == "ssl" and site is not None:
                yield from _certificate(elem, site)
            elif event == "end" and elem.tag == "item":
                if site is None:
                    raise ParseError("nikto XML: <item> outside <scandetails>")
                yield from _finding(_xml_item(elem), site)
                elem.clear()
    except XmlSyntaxError as exc:
        line, column = exc.position
        raise ParseError(f"nikto XML is malformed at line {line}, column {column}: {exc.msg}") from exc
    except DefusedXmlException as exc:
        raise ParseError(f"nikto XML rejected as unsafe: {exc}") from exc


def _xml_site(elem: Element) -> _Site:
    attrs = elem.attrib
    link = attrs.get("siteip") or attrs.get("sitename") or ""
    scheme = link.split("://", 1)[0].lower() if "://" in link else "http"
    ip = attrs.get("targetip", "").strip()
    hostname = attrs.get("targethostname", "").strip()
    return _Site(
        ip=ip,
        hostname="" if hostname == ip else hostname,
        port=_port(attrs.get("targetport")),
        scheme=scheme,
        banner=attrs.get("targetbanner", "").strip(),
    )


def _xml_item(elem: Element) -> _Item:
    references = _split_refs(elem.findtext("references") or "")
    return _Item(
        nikto_id=elem.get("id", "").strip(),
        method=elem.get("method", "").strip(),
        uri=(elem.findtext("uri") or "").strip(),
        message=(elem.findtext("description") or "").strip(),
        link=(elem.findtext("namelink") or "").strip(),
        osvdb=elem.get("osvdbid", "").strip(),
        references=references,
    )


def _parse_json(path: Path) -> Iterator[Record]:
    try:
        document = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ParseError(f"nikto JSON is not UTF-8 text: {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ParseError(f"nikto JSON is malformed at {where}: {exc.msg}") from exc
    hosts = document if isinstance(document, list) else [document]
    for index, host in enumerate(hosts):
        if not isinstance(host, dict) or not isinstance(host.get("vulnerabilities"), list):
            raise ParseError(f"not a nikto JSON report: host entry {index} has no 'vulnerabilities' list")
        site = _json_site(host)
        yield from _site_records(site)
        for item in host["vulnerabilities"]:
            if not isinstance(item, dict):
                raise ParseError(f"nikto JSON: host entry {index} has a vulnerability that is not an object")
            yield from _finding(_json_item(item), site)


def _json_site(host: dict[str, Any]) -> _Site:
    """JSON has no scheme: nikto's TLS ports are assumed to be https."""
    port = _port(host.get("port"))
    ip = str(host.get("ip") or "").strip()
    hostname = str(host.get("host") or "").strip()
    return _Site(
        ip=ip,
        hostname="" if hostname == ip else hostname,
        port=port,
        scheme="https" if port in _TLS_PORTS else "http",
        banner=str(host.get("banner") or "").strip(),
    )


def _json_item(item: dict[str, Any]) -> _Item:
    return _Item(
        nikto_id=str(item.get("id", "")).strip(),
        method=str(item.get("method") or "").strip(),
        uri=str(item.get("url") or "").strip(),
        message=str(item.get("msg") or "").strip(),
        osvdb=str(item.get("OSVDB") or "").strip(),
        references=_split_refs(str(item.get("references") or "")),
    )


def _port(raw: Any) -> int | None:
    if raw in (None, ""):
        return None
    try:
        port = int(str(raw).strip())
    except ValueError as exc:
        raise ParseError(f"nikto report: port {raw!r} is not a number") from exc
    if not 0 < port < 65536:
        raise ParseError(f"nikto report: port {port} is out of range")
    return port


def _split_refs(raw: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ref for ref in re.split(r"[\s,]+", raw) if ref))


def _site_records(site: _Site) -> Iterator[Record]:
    """Nothing for a host nikto could not resolve (no ip, no name): there is no host to record."""
    if not site.address:
        return
    yield HostRecord(ip=site.ip, hostname=site.hostname)
    if site.port is not None:
        yield ServiceRecord(
            host=site.address, port=site.port, service=site.scheme, banner=clip(site.banner, 1000)
        )


def _certificate(elem: Element, site: _Site) -> Iterator[CertificateRecord]:
    subject = elem.get("info", "").strip()
    issuer = elem.get("issuers", "").strip()
    if not (subject or issuer) or not site.address:
        return
    sans = tuple(name for name in (n.strip() for n in elem.get("altnames", "").split(",")) if name)
    yield CertificateRecord(host=site.address, port=site.port, subject=subject, issuer=issuer, sans=sans)


def _finding(item: _Item, site: _Site) -> Iterator[FindingRecord]:
    """One finding per item; nikto's own error lines are not findings."""
    if item.message.startswith("ERROR:"):
        return
    severity, category = _severity(item)
    text = " ".join((item.message, *item.references))
    osvdb = item.osvdb if item.osvdb.isdigit() and int(item.osvdb) else ""
    yield FindingRecord(
        engine=ENGINE,
        rule_id=_rule_id(item, osvdb),
        title=clip(_title(item), 300),
        severity=severity,
        host=site.hostname or site.ip,
        port=site.port,
        protocol="tcp",
        location=clip(_location(item, site), 2000),
        cve_ids=tuple(dict.fromkeys(cve.upper() for cve in _CVE_RE.findall(text))),
        cwe_ids=tuple(dict.fromkeys(f"CWE-{n}" for n in _CWE_LINK_RE.findall(" ".join(item.references)))),
        description=clip(item.message),
        evidence=clip(f"{item.method} {item.uri}".strip()),
        references=tuple(clip(ref, 2000) for ref in item.references),
        category=category,
        extra={key: value for key, value in (("osvdb", osvdb), ("method", item.method)) if value},
    )


def _severity(item: _Item) -> tuple[Severity, str]:
    for severity, category, pattern in _SEVERITY_RULES:
        if pattern.search(item.message) or (category == "known-vulnerability" and _cve_in(item.references)):
            return severity, category
    return Severity.INFO, "informational"


def _cve_in(references: tuple[str, ...]) -> bool:
    return any(_CVE_RE.search(ref) for ref in references)


def _rule_id(item: _Item, osvdb: str) -> str:
    rule_id = item.nikto_id or "unknown"
    if osvdb:
        rule_id += f":osvdb-{osvdb}"
    header = _HEADER_RE.search(item.message)
    if header:
        rule_id += f":{header.group(1).lower()}"
    return rule_id


def _title(item: _Item) -> str:
    """The message without the `<uri>: ` prefix nikto puts in front, so one check has one title."""
    prefix = f"{item.uri}:"
    if item.uri and item.message.startswith(prefix) and len(item.message) > len(prefix):
        return item.message[len(prefix) :].strip()
    return item.message


def _location(item: _Item, site: _Site) -> str:
    """The item's own link when nikto wrote one, else site URL plus item URI."""
    if item.link and "://:" not in item.link:
        return normalise_url(item.link)
    if "://" in item.uri:
        return normalise_url(item.uri)
    host = site.hostname or site.ip
    if not host:
        return item.uri
    if ":" in host:
        host = f"[{host}]"
    port = f":{site.port}" if site.port is not None else ""
    uri = item.uri if item.uri.startswith("/") else f"/{item.uri}"
    return normalise_url(f"{site.scheme}://{host}{port}{uri}")


