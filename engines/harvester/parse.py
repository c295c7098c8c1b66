"""Parse theHarvester's output (``-f <name>`` writes ``<name>.json`` and ``<name>.xml``) into Lantern records.

Formats handled, told apart by the first character:

* JSON: an object with ``cmd`` and lists such as ``hosts``, ``emails``, ``ips``, ``interesting_urls``,
  ``asns``, ``shodan``. A host is ``name`` or ``name:ip`` (newer versions write ``name:ip1, ip2``).
* XML (``<theHarvester>``): ``<host>`` is either bare text (the name) or has ``<ip>``/``<hostname>`` children;
  ``<email>``, ``<vhost>`` (ip/hostname children) and ``<ip>`` elements may follow. Parsed with defusedxml.

Records: every host name becomes ``AssetRecord(kind="subdomain")`` and, when it comes with an IP,
``HostRecord(ip, hostname)``; e-mail addresses become ``AssetRecord(kind="email")``, the ``ips`` list
``AssetRecord(kind="ip")`` and ``interesting_urls`` ``AssetRecord(kind="url")``. Each distinct value is
yielded once. theHarvester reports no issues, so there is no severity mapping and no FindingRecord.

An empty file or a report with empty lists yields nothing; a file that is neither format raises ParseError.
"""

from __future__ import annotations

import ipaddress
import json
import pathlib
from collections.abc import Iterable, Iterator
from typing import Any
from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

from engines.errors import ParseError
from engines.records import AssetRecord, HostRecord, Record, clip

SOURCE = "harvester"
ROOT_TAG = "theHarvester"

Host = tuple[str, tuple[str, ...]]


def parse(path: pathlib.Path) -> Iterator[Record]:
    """Yield assets (subdomains, e-mails, ips, urls) and the hosts that came with an address."""
    raw = path.read_bytes()
    text = raw.lstrip(b"\xef\xbb\xbf").strip()
    if not text:
        return
    if text.startswith(b"<"):
        hosts, emails, ips, urls = _from_xml(raw, path.name)
    elif text.startswith(b"{"):
        hosts, emails, ips, urls = _from_json(raw, path.name)
    else:
        raise ParseError(f"{path.name}: not theHarvester output (expected JSON object or <theHarvester> XML)")
    yield from _records(hosts, emails, ips, urls)


def split_host(entry: str) -> Host:
    """``name``, ``name:ip`` or ``name:ip1, ip2`` -> (name, ips); a part that is not an IP is dropped."""
    name, _, rest = entry.strip().partition(":")
    return name.strip().lower().rstrip("."), _valid_ips(rest.split(","))


def _valid_ips(candidates: Iterable[str]) -> tuple[str, ...]:
    """Keep real IP addresses only: theHarvester sometimes writes placeholders such as 'empty'."""
    found = []
    for candidate in candidates:
        try:
            found.append(str(ipaddress.ip_address(candidate.strip())))
        except ValueError:
            continue
    return tuple(dict.fromkeys(found))


def _strings(value: Any, key: str, name: str) -> list[str]:
    """A JSON list of strings; anything else under a known key means the file is not what we expect."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ParseError(f"{name}: theHarvester '{key}' must be a list of strings")
    return [item for item in value if item.strip()]


def _from_json(raw: bytes, name: str) -> tuple[list[Host], list[str], list[str], list[str]]:
    """Read the JSON report; it must be an object with at least one of theHarvester's keys."""
    try:
        report = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParseError(f"{name}: not theHarvester JSON (invalid JSON: {exc})") from exc
    known = {"cmd", "hosts", "emails", "ips", "interesting_urls", "shodan", "asns", "vhosts"}
    if not isinstance(report, dict) or not known & set(report):
        raise ParseError(f"{name}: not theHarvester JSON (none of cmd/hosts/emails/ips)")
    hosts = [split_host(entry) for entry in _strings(report.get("hosts"), "hosts", name)]
    emails = _strings(report.get("emails"), "emails", name)
    ips = list(_valid_ips(_strings(report.get("ips"), "ips", name)))
    urls = _strings(report.get("interesting_urls"), "interesting_urls", name)
    return hosts, emails, ips, urls


def _from_xml(raw: bytes, name: str) -> tuple[list[Host], list[str], list[str], list[str]]:
    """Read the XML report with defusedxml; the root must be <theHarvester>."""
    try:
        root = SafeElementTree.fromstring(raw)
    except (SafeElementTree.ParseError, DefusedXmlException) as exc:
        raise ParseError(f"{name}: not theHarvester XML ({exc})") from exc
    if root.tag != ROOT_TAG:
        raise ParseError(f"{name}: XML root is <{root.tag}>, expected <{ROOT_TAG}>")
    hosts = [
        _xml_host(element.text, element.findtext("hostname"), element.findtext("ip"))
        for element in root
        if element.tag in ("host", "vhost")
    ]
    emails = [text for element in root.iter("email") if (text := (element.text or "").strip())]
    ips = list(_valid_ips(element.text or "" for element in root if element.tag == "ip"))
    return [host for host in hosts if host[0]], emails, ips, []


def _xml_host(text: str | None, hostname: str | None, ip: str | None) -> Host:
    """<host>name</host>, <host>name:ip</host> or <host><ip>..</ip><hostname>..</hostname></host>."""
    if hostname is None:
        return split_host(text or "")
    return hostname.strip().lower().rstrip("."), _valid_ips((ip or "").split(","))


def _records(hosts: list[Host], emails: list[str], ips: list[str], urls: list[str]) -> Iterator[Record]:
    """Subdomain assets and hosts first, then e-mails, ips and urls, each distinct value once."""
    seen: set[tuple[str, str]] = set()
    for name, addresses in hosts:
        if name and ("subdomain", name) not in seen:
            seen.add(("subdomain", name))
            yield AssetRecord(kind="subdomain", value=clip(name, 255), source=SOURCE)
        for ip in addresses:
            if ("host", f"{ip}|{name}") not in seen:
                seen.add(("host", f"{ip}|{name}"))
                yield HostRecord(ip=ip, hostname=name)
    for kind, values in (("email", emails), ("ip", ips), ("url", urls)):
        for value in values:
            normalised = value.strip().lower() if kind == "email" else value.strip()
            if (kind, normalised) not in seen:
                seen.add((kind, normalised))
                yield AssetRecord(kind=kind, value=clip(normalised, 2000), source=SOURCE)
