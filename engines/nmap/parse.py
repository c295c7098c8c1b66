"""nmap XML (-oX) → HostRecord, ServiceRecord, CertificateRecord.

Streaming: hosts are read one `<host>` element at a time with defusedxml's iterparse and cleared after use,
so a 10,000-host report does not sit in memory. DTDs are allowed (nmap writes `<!DOCTYPE nmaprun>`);
entities and external references are refused by defusedxml.

Only hosts whose status is "up" are reported. Every `<port>` element is a ServiceRecord with its state
(nmap lists closed/filtered ports individually when they are few; the rest are summarised in extraports,
which carry no port numbers). The `ssl-cert` NSE script becomes a CertificateRecord; the `banner` script's
output becomes the service banner.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element, ParseError as XMLParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from engines.errors import ParseError
from engines.records import CertificateRecord, HostRecord, Record, ServiceRecord, clip


def parse(path: Path) -> Iterator[Record]:
    if path.stat().st_size == 0:
        return  # nmap wrote nothing (killed before its first line): no records, not an error
    with open(path, "rb") as handle:
        yield from parse_stream(handle)


def parse_stream(handle: IO[bytes]) -> Iterator[Record]:
    saw_root = False
    try:
        for event, element in iterparse(handle, events=("start", "end")):
            if event == "start":
                if not saw_root:
                    if element.tag != "nmaprun":
                        raise ParseError(f"not an nmap XML report (root element is <{element.tag}>)")
                    saw_root = True
                continue
            if element.tag == "host":
                yield from _host_records(element)
                element.clear()
    except XMLParseError as exc:
        raise ParseError(f"malformed nmap XML: {exc}") from None
    except DefusedXmlException as exc:
        raise ParseError(f"refused nmap XML: {exc}") from None


def _host_records(host: Element) -> Iterator[Record]:
    status = host.find("status")
    if status is not None and status.get("state") != "up":
        return
    ip, mac, vendor = "", "", ""
    for address in host.findall("address"):
        kind = address.get("addrtype")
        if kind in {"ipv4", "ipv6"} and not ip:
            ip = address.get("addr", "")
        elif kind == "mac":
            mac, vendor = address.get("addr", ""), address.get("vendor", "")
    hostname_el = host.find("hostnames/hostname")
    hostname = hostname_el.get("name", "") if hostname_el is not None else ""
    yield HostRecord(ip=ip, hostname=hostname, mac=mac, vendor=vendor, os_guess=_os_guess(host))
    for port in host.findall("ports/port"):
        yield from _port_records(ip or hostname, port)


def _os_guess(host: Element) -> str:
    best, accuracy = "", -1
    for match in host.findall("os/osmatch"):
        score = int(match.get("accuracy", "0") or 0)
        if score > accuracy:
            best, accuracy = match.get("name", ""), score
    return best


def _port_records(host: str, port: Element) -> Iterator[Record]:
    state_el = port.find("state")
    service_el = port.find("service")
    scripts = {script.get("id", ""): script for script in port.findall("script")}
    banner = scripts["banner"].get("output", "") if "banner" in scripts else ""
    service = product = version = ""
    cpes: tuple[str, ...] = ()
    if service_el is not None:
        service = service_el.get("name", "")
        if service_el.get("tunnel") == "ssl" and service in {"http", "https"}:
            service = "https"
        product = service_el.get("product", "")
        version = " ".join(filter(None, [service_el.get("version", ""), service_el.get("extrainfo", "")]))
        cpes = tuple(cpe.text or "" for cpe in service_el.findall("cpe") if cpe.text)
    number = int(port.get("portid", "0"))
    yield ServiceRecord(
        host=host, port=number, protocol=port.get("protocol", "tcp"),
        state=state_el.get("state", "") if state_el is not None else "", service=service, product=product,
        version=version, banner=clip(banner, 1000), cpes=cpes,
    )
    if "ssl-cert" in scripts:
        certificate = _certificate(host, number, scripts["ssl-cert"])
        if certificate is not None:
            yield certificate


def _table(parent: Element, key: str) -> Element | None:
    for table in parent.findall("table"):
        if table.get("key") == key:
            return table
    return None


def _elems(parent: Element | None) -> dict[str, str]:
    if parent is None:
        return {}
    return {elem.get("key", ""): elem.text or "" for elem in parent.findall("elem")}


def _distinguished_name(fields: dict[str, str]) -> str:
    order = [("commonName", "CN"), ("organizationalUnitName", "OU"), ("organizationName", "O"),
             ("localityName", "L"), ("stateOrProvinceName", "ST"), ("countryName", "C")]
    return ",".join(f"{short}={fields[long]}" for long, short in order if fields.get(long))


def _san(entry: str) -> str:
    """"DNS:example.com" → "example.com", "IP Address:127.0.0.1" → "127.0.0.1" (as the TLS parsers do)."""
    kind, sep, value = entry.strip().partition(":")
    return value.strip() if sep and kind in {"DNS", "IP Address", "IP"} else entry.strip()


def _timestamp(text: str) -> datetime | None:
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S+00:00"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    return None


def _certificate(host: str, port: int, script: Element) -> CertificateRecord | None:
    top = _elems(script)
    subject = _elems(_table(script, "subject"))
    if not subject and not top:
        return None
    pubkey = _elems(_table(script, "pubkey"))
    validity = _elems(_table(script, "validity"))
    sans: tuple[str, ...] = ()
    extensions = _table(script, "extensions")
    for extension in extensions.findall("table") if extensions is not None else []:
        fields = _elems(extension)
        if fields.get("name") == "X509v3 Subject Alternative Name":
            sans = tuple(_san(part) for part in fields.get("value", "").split(",") if part.strip())
    fingerprint = ""
    if pem := top.get("pem", ""):
        body = "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))
        try:
            fingerprint = hashlib.sha256(base64.b64decode(body)).hexdigest()
        except ValueError:
            fingerprint = ""
    bits = pubkey.get("bits", "")
    return CertificateRecord(
        host=host, port=port, subject=_distinguished_name(subject),
        issuer=_distinguished_name(_elems(_table(script, "issuer"))), sans=sans,
        not_before=_timestamp(validity.get("notBefore", "")), not_after=_timestamp(validity.get("notAfter", "")),
        key_type=pubkey.get("type", ""), key_bits=int(bits) if bits.isdigit() else None,
        signature_algorithm=top.get("sig_algo", ""), fingerprint_sha256=fingerprint,
    )
