"""Parse masscan's output into Lantern records.

Formats handled, told apart by content:

* ``-oJ`` JSON: a ``[`` line, one record per line (``{"ip": ..., "timestamp": ..., "ports": [{"port", "proto",
  "status", "reason", "ttl"}]}``), ``,`` separator lines or trailing commas, ``]``. Older versions end with
  ``{finished: 1}`` and leave a trailing comma, so the file is often not valid JSON as a whole: records are
  decoded one by one. Banner records carry ``"service": {"name", "banner"}`` instead of a status. ``-oD`` (one
  record per line, no brackets) is read by the same code.
* ``-oL`` list: ``#masscan``, ``open tcp 80 1.2.3.4 1600000000``, ``banner tcp 80 1.2.3.4 1600000000 http
  <text>``, ``# end``.
* ``-oG`` grepable: ``Timestamp: .. Host: 1.2.3.4 () Ports: 80/open/tcp//http//`` and ``Host: .. Port: 80
  Service: http Banner: ..`` lines, ``#`` comments.
* ``-oX`` XML (``<nmaprun scanner="masscan">``), parsed with defusedxml; nmap's own XML is refused.

Records: one HostRecord per IP (state up: masscan only lists hosts that answered) and one ServiceRecord per
(ip, port, protocol) with the state from ``status`` and, when banner records exist for the port, the banners
joined in ``banner`` and the first banner name that names a protocol (not ``title``/``X509``...) as
``service``. masscan reports no issues, so there is no severity mapping and no FindingRecord.

An empty file or an empty list (``[`` ``]``) yields nothing; a record that cannot be decoded raises ParseError
naming its line.
"""

from __future__ import annotations

import ipaddress
import json
import pathlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

from engines.errors import ParseError
from engines.records import HostRecord, Record, ServiceRecord, clip

BANNER_ONLY_NAMES = frozenset({"title", "html", "X509", "X509CA", "ssl", "vuln", "heur", "unknown"})
PROTOCOLS = frozenset({"tcp", "udp", "sctp", "icmp"})

_SEPARATORS = re.compile(r"[\s\[\],]*")
_FINISHED = re.compile(r"\{\s*\"?finished\"?\s*:\s*\d+\s*\}")
_GREP_PORTS = re.compile(
    r"Host: (?P<ip>\S+) \([^)]*\)\s+Ports: (?P<port>\d+)/(?P<state>[^/]*)/(?P<proto>[^/]*)/"
)
_GREP_BANNER = re.compile(
    r"Host: (?P<ip>\S+) \([^)]*\)\s+Port: (?P<port>\d+)\s+Service: (?P<service>\S+)\s+Banner: (?P<banner>.*)$"
)


@dataclass(frozen=True)
class Observation:
    """One line/record of masscan output: a port state or a banner grabbed from that port."""

    ip: str
    port: int
    protocol: str
    state: str = ""
    banner_name: str = ""
    banner: str = ""


@dataclass
class _Port:
    """What is known about one (ip, port, protocol) after all its observations."""

    state: str = ""
    banners: list[tuple[str, str]] = field(default_factory=list)


def parse(path: pathlib.Path) -> Iterator[Record]:
    """Yield a HostRecord the first time an IP is seen, then one ServiceRecord per port at the end."""
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
    stripped = text.strip()
    if not stripped:
        return
    if stripped.startswith("<"):
        observations = _from_xml(raw, path.name)
    elif stripped[0] in "[{":
        observations = _from_json(text, path.name)
    else:
        observations = _from_lines(text, path.name)
    yield from records(observations)


def records(observations: Iterable[Observation]) -> Iterator[Record]:
    """Merge observations: status and banner records of one port become one ServiceRecord."""
    ports: dict[tuple[str, int, str], _Port] = {}
    hosts: set[str] = set()
    for seen in observations:
        if seen.ip not in hosts:
            hosts.add(seen.ip)
            yield HostRecord(ip=seen.ip)
        port = ports.setdefault((seen.ip, seen.port, seen.protocol), _Port())
        if seen.state:
            port.state = seen.state
        if seen.banner_name or seen.banner:
            port.banners.append((seen.banner_name, seen.banner))
    for (ip, number, protocol), port in ports.items():
        yield ServiceRecord(
            host=ip,
            port=number,
            protocol=protocol,
            state=port.state or "open",
            service=_service_name(port.banners),
            banner=clip("\n".join(f"{name}: {text}" if name else text for name, text in port.banners)),
        )


def _service_name(banners: list[tuple[str, str]]) -> str:
    """The first banner name that names a protocol; ``ssl`` only when nothing better was grabbed."""
    names = [name for name, _ in banners if name]
    for name in names:
        if name not in BANNER_ONLY_NAMES:
            return name
    return "ssl" if "ssl" in names else ""


def _ip(value: Any, where: str) -> str:
    """Validate and normalise an address; masscan never writes hostnames."""
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError as exc:
        raise ParseError(f"{where}: {value!r} is not an IP address") from exc


def _port(value: Any, where: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ParseError(f"{where}: port {value!r} is not a number") from exc
    if not 0 <= number <= 65535:
        raise ParseError(f"{where}: port {number} is out of range")
    return number


def _protocol(value: Any, where: str) -> str:
    protocol = str(value or "tcp").lower()
    if protocol not in PROTOCOLS:
        raise ParseError(f"{where}: unknown protocol {value!r}")
    return protocol


def _json_records(text: str, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Decode records one at a time, skipping brackets, commas and the old ``{finished: 1}`` trailer."""
    decoder = json.JSONDecoder(strict=False)
    position = 0
    while True:
        separators = _SEPARATORS.match(text, position)
        position = separators.end() if separators else position
        if position >= len(text):
            return
        if finished := _FINISHED.match(text, position):
            position = finished.end()
            continue
        line = text.count("\n", 0, position) + 1
        try:
            record, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise ParseError(f"{name}: line {line}: not a masscan JSON record ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise ParseError(f"{name}: line {line}: expected a JSON object, got {type(record).__name__}")
        yield line, record


def _from_json(text: str, name: str) -> Iterator[Observation]:
    """One observation per entry of each record's ``ports`` list."""
    for line, record in _json_records(text, name):
        where = f"{name}: line {line}"
        if "ip" not in record or not isinstance(record.get("ports"), list):
            raise ParseError(f"{where}: masscan record needs 'ip' and a 'ports' list")
        ip = _ip(record["ip"], where)
        for entry in record["ports"]:
            if not isinstance(entry, dict) or "port" not in entry:
                raise ParseError(f"{where}: a masscan port entry has no 'port'")
            service = entry.get("service") if isinstance(entry.get("service"), dict) else {}
            yield Observation(
                ip=ip,
                port=_port(entry["port"], where),
                protocol=_protocol(entry.get("proto"), where),
                state=str(entry.get("status") or ""),
                banner_name=str(service.get("name") or ""),
                banner=str(service.get("banner") or ""),
            )


def _from_lines(text: str, name: str) -> Iterator[Observation]:
    """-oL and -oG lines; ``#`` lines are comments in both."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{name}: line {number}"
        if stripped.startswith(("Timestamp:", "Host:")):
            yield _grepable(stripped, where)
        else:
            yield _list_line(stripped, where)


def _list_line(line: str, where: str) -> Observation:
    """``<state> <proto> <port> <ip> <ts>`` or ``banner <proto> <port> <ip> <ts> <name> <text>``."""
    fields = line.split(" ", 6)
    if len(fields) < 5 or fields[0] not in ("open", "closed", "banner"):
        raise ParseError(f"{where}: not a masscan list line: {clip(line, 80)!r}")
    ip, port, protocol = _ip(fields[3], where), _port(fields[2], where), _protocol(fields[1], where)
    if fields[0] == "banner":
        banner_name, banner = (fields + ["", ""])[5:7]
        return Observation(ip, port, protocol, banner_name=banner_name, banner=banner)
    return Observation(ip, port, protocol, state=fields[0])


def _grepable(line: str, where: str) -> Observation:
    """A -oG ``Ports:`` line (state) or a ``Port: .. Service: .. Banner:`` line (banners are tcp)."""
    if match := _GREP_PORTS.search(line):
        ip, port = _ip(match["ip"], where), _port(match["port"], where)
        return Observation(ip, port, _protocol(match["proto"], where), state=match["state"])
    if match := _GREP_BANNER.search(line):
        ip, port = _ip(match["ip"], where), _port(match["port"], where)
        return Observation(ip, port, "tcp", banner_name=match["service"], banner=match["banner"].strip())
    raise ParseError(f"{where}: not a masscan grepable line: {clip(line, 80)!r}")


def _from_xml(raw: bytes, name: str) -> list[Observation]:
    """``<nmaprun scanner="masscan">`` hosts; every <port> gives its state and optional <service> banner."""
    try:
        root = SafeElementTree.fromstring(raw)
    except (SafeElementTree.ParseError, DefusedXmlException) as exc:
        raise ParseError(f"{name}: not masscan XML ({exc})") from exc
    scanner = root.get("scanner", "")
    if root.tag != "nmaprun" or scanner != "masscan":
        found = f"<{root.tag} scanner={scanner!r}>"
        raise ParseError(f"{name}: XML root is {found}, expected <nmaprun scanner='masscan'>")
    observations = []
    for host in root.iter("host"):
        address = host.find("address")
        if address is None:
            raise ParseError(f"{name}: a masscan <host> has no <address>")
        ip = _ip(address.get("addr"), name)
        for port in host.iter("port"):
            state = port.find("state")
            service = port.find("service")
            observations.append(
                Observation(
                    ip=ip,
                    port=_port(port.get("portid"), name),
                    protocol=_protocol(port.get("protocol"), name),
                    state=state.get("state", "") if state is not None else "",
                    banner_name=service.get("name", "") if service is not None else "",
                    banner=service.get("banner", "") if service is not None else "",
                )
            )
    return observations
