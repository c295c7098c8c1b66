"""Parse nuclei results into Lantern records.

Formats handled
---------------
* JSONL (``nuclei -jsonl`` / ``-json`` / ``-o out.jsonl``): one JSON object per line. Read line by line so
  that a file of any size is never held in memory; records are yielded as each line is read.
* JSON array (``nuclei -json-export``): the same objects in one top-level array. This format cannot be
  streamed with the standard library, so it is loaded whole.

Both the v2/v3 key style (``template-id``, ``matched-at``, ``matcher-name``) and the older v2.0 one
(``templateID``, ``matched``, ``matcher_name``) are read. Blank lines are skipped; any other line that is not
a nuclei result object raises ParseError naming the line, after the records of the lines before it were
yielded.

Severity mapping
----------------
``info.severity`` maps one to one: critical, high, medium, low, info. ``unknown`` (nuclei's "not set"), a
missing value or an unrecognised one falls back to the CVSS score of ``info.classification.cvss-score`` via
Severity.from_cvss (info when there is no score); the raw value is kept in ``extra["tool_severity"]``.

Records
-------
* One FindingRecord per result line. The only lines skipped are those with ``"matcher-status": false``:
  ``nuclei -matcher-status`` also writes the templates that did not match, and those are not findings. rule_id
  is the template id, plus ``:<matcher-name>`` when the result names the matcher
  (http-missing-security-headers reports one result per missing header). location is ``matched-at`` (URLs
  normalised: lower-case scheme and host, default port dropped, empty path "/").
* HostRecord/ServiceRecord only when the result carries an ``ip`` and the matched host is the scan target
  itself: a template that follows a third party (azure-domain-tenant queries login.microsoftonline.com) must
  not add that third party's address to the target's inventory. DNS, file and code results never give a
  service. Each host and each (ip, port) is yielded once per file.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit, urlunsplit

from engines.errors import ParseError
from engines.records import FindingRecord, HostRecord, Record, ServiceRecord, Severity, clip, normalise_url

ENGINE = "nuclei"

_SEVERITIES = {s.value: s for s in Severity}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CVE_RE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
_SERVICE_TYPES = frozenset({"http", "ssl", "network", "tcp", "javascript", "websocket", "headless"})
_HOSTLESS_TYPES = frozenset({"file", "code"})


@dataclass(frozen=True, slots=True)
class _Endpoint:
    """Where a nuclei value points: `scheme` is empty for a bare `host[:port]`."""

    scheme: str
    host: str
    port: int | None


def parse(path: Path) -> Iterator[Record]:
    """Yield the records of a nuclei JSONL (streamed) or JSON-array export file."""
    with path.open("rb") as handle:
        first = _first_significant_byte(handle)
        if first is None:
            return
        handle.seek(0)
        seen: set[tuple[str, int | None]] = set()
        if first == b"[":
            yield from _parse_array(handle.read(), seen)
            return
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                result = _decode_line(raw, number)
                if result.get("matcher-status") is not False:
                    yield from _records(result, f"line {number}", seen)


def _first_significant_byte(handle: BinaryIO) -> bytes | None:
    """Peek past a BOM and whitespace so the format is chosen by content, not by file name."""
    head = handle.read(4096).lstrip(b"\xef\xbb\xbf").lstrip()
    while not head:
        chunk = handle.read(4096)
        if not chunk:
            return None
        head = chunk.lstrip()
    return head[:1]


def _decode_line(raw: bytes, number: int) -> dict[str, Any]:
    """Decode one JSONL line; the line number in the error lets a user find the damage in a huge file."""
    try:
        value = json.loads(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
    except UnicodeDecodeError as exc:
        raise ParseError(f"nuclei JSONL line {number}: not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        message = f"nuclei JSONL line {number}: invalid JSON ({exc.msg} at column {exc.colno})"
        raise ParseError(message) from exc
    return _check_result(value, f"line {number}")


def _parse_array(data: bytes, seen: set[tuple[str, int | None]]) -> Iterator[Record]:
    """Read a -json-export file: one array of the same result objects."""
    try:
        values = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"nuclei JSON export: not valid JSON ({exc})") from exc
    if not isinstance(values, list):
        raise ParseError("nuclei JSON export: expected a top-level array of results")
    for index, value in enumerate(values):
        result = _check_result(value, f"item {index}")
        if result.get("matcher-status") is not False:
            yield from _records(result, f"item {index}", seen)


def _check_result(value: Any, where: str) -> dict[str, Any]:
    """Reject objects that are not nuclei results, so another tool's JSON is not read as an empty finding."""
    if not isinstance(value, dict):
        raise ParseError(f"nuclei {where}: expected a JSON object, got {type(value).__name__}")
    if not (value.get("template-id") or value.get("templateID")):
        raise ParseError(f"nuclei {where}: not a nuclei result (no 'template-id')")
    if not isinstance(value.get("info", {}), dict):
        raise ParseError(f"nuclei {where}: 'info' is not an object")
    return value


def _records(result: dict[str, Any], where: str, seen: set[tuple[str, int | None]]) -> Iterator[Record]:
    """Host and service first (once each), then the finding of one result."""
    kind = str(result.get("type") or "").lower()
    target = _endpoint(str(result.get("host") or ""))
    matched_raw = str(result.get("matched-at") or result.get("matched") or "")
    matched = _endpoint(matched_raw) if matched_raw else target
    port = _port(result, matched, where)
    ip = str(result.get("ip") or "").strip()
    if _is_ip(ip) and _is_target(matched, target, ip):
        yield from _network_records(ip, target, port if kind in _SERVICE_TYPES else None, matched, seen)
    yield _finding(result, kind, matched, matched_raw, port)


# A plain http(s) URL with a lower-case host: read without urlsplit (every matched-at URL is unique, so the
# cache below does not help there, and urlsplit was the parser's hottest call).
_PLAIN_URL = re.compile(r"(https?)://([a-z0-9.-]+)(?::(\d{1,5}))?(?:[/?#]|$)")


@lru_cache(maxsize=65536)
def _endpoint(value: str) -> _Endpoint:
    """Split `https://h:8443/x`, `h:22` or `h` alike; a bare host gets no scheme and no port."""
    value = value.strip()
    plain = _PLAIN_URL.match(value)
    if plain and (plain.group(3) is None or int(plain.group(3)) <= 65535):
        scheme = plain.group(1)
        port = int(plain.group(3)) if plain.group(3) else _DEFAULT_PORTS.get(scheme)
        return _Endpoint(scheme=scheme, host=plain.group(2), port=port)
    has_scheme = "://" in value
    try:
        parts = urlsplit(value if has_scheme else f"//{value}")
        port = parts.port
    except ValueError:
        return _Endpoint(scheme="", host=value.lower(), port=None)
    scheme = parts.scheme.lower() if has_scheme else ""
    host = (parts.hostname or "").lower()
    return _Endpoint(scheme=scheme, host=host, port=port or _DEFAULT_PORTS.get(scheme))


def _port(result: dict[str, Any], matched: _Endpoint, where: str) -> int | None:
    """The matched port, else nuclei v3's own `port` field."""
    if matched.port is not None:
        return matched.port
    raw = result.get("port")
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise ParseError(f"nuclei {where}: port {raw!r} is not a number") from exc


def _is_target(matched: _Endpoint, target: _Endpoint, ip: str) -> bool:
    """True when nuclei's `ip` belongs to the scanned host, not to a third party the template queried."""
    return matched.host in (target.host, ip)


def _network_records(
    ip: str, target: _Endpoint, port: int | None, matched: _Endpoint, seen: set[tuple[str, int | None]]
) -> Iterator[Record]:
    if (ip, None) not in seen:
        seen.add((ip, None))
        yield HostRecord(ip=ip, hostname="" if _is_ip(target.host) else target.host)
    if port is not None and (ip, port) not in seen:
        seen.add((ip, port))
        yield ServiceRecord(host=ip, port=port, protocol="tcp", service=matched.scheme)


@lru_cache(maxsize=65536)
def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _finding(
    result: dict[str, Any], kind: str, matched: _Endpoint, location: str, port: int | None
) -> FindingRecord:
    info: dict[str, Any] = result.get("info") or {}
    classification = info.get("classification")
    if not isinstance(classification, dict):
        classification = {}
    template_id = str(result.get("template-id") or result.get("templateID"))
    matcher = str(result.get("matcher-name") or result.get("matcher_name") or "")
    cvss = _float(classification.get("cvss-score"))
    name = str(info.get("name") or template_id)
    hostless = kind in _HOSTLESS_TYPES
    return FindingRecord(
        engine=ENGINE,
        rule_id=f"{template_id}:{matcher}" if matcher else template_id,
        title=clip(f"{name} ({matcher})" if matcher else name, 500),
        severity=_severity(info.get("severity"), cvss),
        host="" if hostless else matched.host,
        port=None if hostless or kind == "dns" else port,
        protocol="" if hostless or kind == "dns" else "tcp",
        location=clip(normalise_url(location), 2000),
        cvss_score=cvss,
        cve_ids=_cve_ids(classification.get("cve-id"), template_id),
        cwe_ids=_cwe_ids(classification.get("cwe-id")),
        description=clip(str(info.get("description") or "").strip()),
        remediation=clip(str(info.get("remediation") or "").strip()),
        evidence=clip(_evidence(result)),
        references=tuple(clip(ref, 2000) for ref in _strings(info.get("reference"))),
        category=kind,
        extra=_extra(result, info),
    )


def _severity(raw: Any, cvss: float | None) -> Severity:
    """Nuclei's own label when it is one of ours; `unknown` or anything else falls back to the CVSS score."""
    return _SEVERITIES.get(str(raw or "").strip().lower()) or Severity.from_cvss(cvss)


def _float(raw: Any) -> float | None:
    try:
        return float(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _strings(raw: Any) -> tuple[str, ...]:
    """Nuclei writes list fields as a list, a single string, a comma-separated string or null."""
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else str(raw).split(",")
    return tuple(s for s in (str(item).strip() for item in items if item is not None) if s)


def _cve_ids(raw: Any, template_id: str) -> tuple[str, ...]:
    """Classification CVEs; else the template id itself, since nuclei-templates names CVE templates by CVE."""
    cves = tuple(dict.fromkeys(cve.upper() for cve in _strings(raw)))
    if not cves and _CVE_RE.match(template_id):
        return (template_id.upper(),)
    return cves


def _cwe_ids(raw: Any) -> tuple[str, ...]:
    ids = (s.upper().removeprefix("CWE-") for s in _strings(raw))
    return tuple(dict.fromkeys(f"CWE-{n}" for n in ids if n.isdigit()))


def _evidence(result: dict[str, Any]) -> str:
    """What nuclei extracted or matched; the raw request/response are left out (they can be megabytes)."""
    extracted = _strings(result.get("extracted-results"))
    if extracted:
        return "\n".join(extracted)
    return "\n".join(_strings(result.get("matched-line")))


def _extra(result: dict[str, Any], info: dict[str, Any]) -> dict[str, str]:
    interaction = result.get("interaction") or {}
    fields = {
        "template": result.get("template") or result.get("template-path") or "",
        "template_url": result.get("template-url") or "",
        "tool_severity": info.get("severity") or "",
        "ip": result.get("ip") or "",
        "timestamp": result.get("timestamp") or "",
        "tags": ",".join(_strings(info.get("tags"))),
        "curl_command": result.get("curl-command") or "",
        "interaction": interaction.get("protocol", "") if isinstance(interaction, dict) else "",
    }
    return {key: clip(str(value)) for key, value in fields.items() if value}


