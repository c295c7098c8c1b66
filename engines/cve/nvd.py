"""Read NVD CVE JSON 2.0 feed files (nvdcve-2.0-*.json[.gz], or a saved /rest/json/cves/2.0 page).

Shape read: {"format": "NVD_CVE", "version": "2.0", ..., "vulnerabilities": [{"cve": {...}}, ...]} where each
cve has id, published, lastModified, vulnStatus, descriptions[{lang, value}], metrics.cvssMetricV31[...
cvssData.baseScore / vectorString / baseSeverity] (else V30, V40, V2), weaknesses[].description[].value and
configurations[{operator?, negate?, nodes[{operator, negate, cpeMatch[{vulnerable, criteria,
versionStartIncluding, versionStartExcluding, versionEndIncluding, versionEndExcluding}]}]}].

Streaming: the file is read in 1 MiB chunks and each element of `vulnerabilities` is decoded on its own, so a
yearly feed (hundreds of MB) never sits in memory whole; only the other top-level keys (a few scalars) are
decoded and skipped. Gzip is recognised by its magic bytes, not by the file name.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from engines.cve.cpe import CpeError, parse_cpe

CHUNK = 1 << 20
_METRICS = ("cvssMetricV31", "cvssMetricV30", "cvssMetricV40", "cvssMetricV2")


class NvdFormatError(ValueError):
    """The file is not an NVD CVE JSON 2.0 feed (or is truncated)."""


@dataclass(frozen=True, slots=True)
class CpeMatch:
    criteria: str
    vulnerable: bool
    version_start_including: str = ""
    version_start_excluding: str = ""
    version_end_including: str = ""
    version_end_excluding: str = ""


@dataclass(frozen=True, slots=True)
class Node:
    operator: str  # OR | AND
    negate: bool
    matches: tuple[CpeMatch, ...]


@dataclass(frozen=True, slots=True)
class Configuration:
    operator: str  # OR (NVD's default when absent) | AND ("running on/with" configurations)
    negate: bool
    nodes: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class CveItem:
    cve_id: str
    status: str = ""
    published: str = ""
    last_modified: str = ""
    description: str = ""
    cvss_score: float | None = None
    cvss_vector: str = ""
    severity: str = ""
    cwe_ids: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    configurations: tuple[Configuration, ...] = field(default=())

    @property
    def rejected(self) -> bool:
        return self.status.lower() == "rejected"

    def products(self) -> set[tuple[str, str, str]]:
        """(part, vendor, product) of every vulnerable cpeMatch: the keys a lookup by detected CPE uses."""
        keys: set[tuple[str, str, str]] = set()
        for configuration in self.configurations:
            for node in configuration.nodes:
                for match in node.matches:
                    if match.vulnerable:
                        try:
                            keys.add(parse_cpe(match.criteria).key)
                        except CpeError:
                            continue
        return keys


def configurations_to_json(configurations: tuple[Configuration, ...]) -> list[dict[str, Any]]:
    """A JSON-storable form (NVD's own key names, empty bounds left out)."""
    return [{"operator": c.operator, "negate": c.negate, "nodes": [
        {"operator": n.operator, "negate": n.negate, "cpeMatch": [_match_json(m) for m in n.matches]}
        for n in c.nodes]} for c in configurations]


def configurations_from_json(raw: Any) -> tuple[Configuration, ...]:
    """Configurations from NVD's JSON (a feed item's `configurations`, or what configurations_to_json wrote)."""
    if not isinstance(raw, list):
        return ()
    return tuple(_configuration(item) for item in raw if isinstance(item, dict))


def _match_json(match: CpeMatch) -> dict[str, Any]:
    out: dict[str, Any] = {"vulnerable": match.vulnerable, "criteria": match.criteria}
    for key, value in (("versionStartIncluding", match.version_start_including),
                       ("versionStartExcluding", match.version_start_excluding),
                       ("versionEndIncluding", match.version_end_including),
                       ("versionEndExcluding", match.version_end_excluding)):
        if value:
            out[key] = value
    return out


def _configuration(raw: dict[str, Any]) -> Configuration:
    nodes = tuple(_node(node) for node in raw.get("nodes") or [] if isinstance(node, dict))
    return Configuration(operator=str(raw.get("operator") or "OR").upper(), negate=bool(raw.get("negate")),
                         nodes=nodes)


def _node(raw: dict[str, Any]) -> Node:
    matches = tuple(
        CpeMatch(criteria=str(m.get("criteria") or ""), vulnerable=bool(m.get("vulnerable")),
                 version_start_including=str(m.get("versionStartIncluding") or ""),
                 version_start_excluding=str(m.get("versionStartExcluding") or ""),
                 version_end_including=str(m.get("versionEndIncluding") or ""),
                 version_end_excluding=str(m.get("versionEndExcluding") or ""))
        for m in raw.get("cpeMatch") or [] if isinstance(m, dict) and m.get("criteria"))
    return Node(operator=str(raw.get("operator") or "OR").upper(), negate=bool(raw.get("negate")),
                matches=matches)


def parse_cve(raw: Any) -> CveItem:
    """One `vulnerabilities[].cve` object as a CveItem; raises NvdFormatError when it has no id."""
    if not isinstance(raw, dict) or not raw.get("id"):
        raise NvdFormatError("a vulnerabilities[] element has no cve.id")
    score, vector, severity = _cvss(raw.get("metrics") or {})
    return CveItem(
        cve_id=str(raw["id"]).upper(),
        status=str(raw.get("vulnStatus") or ""),
        published=str(raw.get("published") or ""),
        last_modified=str(raw.get("lastModified") or ""),
        description=next((str(d.get("value") or "") for d in raw.get("descriptions") or []
                          if isinstance(d, dict) and d.get("lang") == "en"), ""),
        cvss_score=score, cvss_vector=vector, severity=severity,
        cwe_ids=_cwes(raw.get("weaknesses") or []),
        references=tuple(dict.fromkeys(str(r["url"]) for r in raw.get("references") or []
                                       if isinstance(r, dict) and r.get("url"))),
        configurations=configurations_from_json(raw.get("configurations")),
    )


def _cvss(metrics: dict[str, Any]) -> tuple[float | None, str, str]:
    """The newest CVSS version present (3.1, 3.0, 4.0, then 2), NVD's Primary score before a CNA's."""
    for name in _METRICS:
        entries = [m for m in metrics.get(name) or [] if isinstance(m, dict)]
        entries.sort(key=lambda m: 0 if m.get("type") == "Primary" else 1)
        for entry in entries:
            data = entry.get("cvssData") or {}
            if isinstance(data.get("baseScore"), (int, float)):
                severity = str(data.get("baseSeverity") or entry.get("baseSeverity") or "").lower()
                return float(data["baseScore"]), str(data.get("vectorString") or ""), severity
    return None, "", ""


def _cwes(weaknesses: list[Any]) -> tuple[str, ...]:
    ids = [str(d.get("value") or "") for w in weaknesses if isinstance(w, dict)
           for d in w.get("description") or [] if isinstance(d, dict)]
    return tuple(dict.fromkeys(cwe.upper() for cwe in ids if cwe.upper().startswith("CWE-")))


def open_feed(path: Path) -> TextIO:
    """The feed as text, gunzipped when it starts with the gzip magic bytes."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open("r", encoding="utf-8")


def iter_feed(path: Path) -> Iterator[CveItem]:
    """Every CVE of one feed file, in file order, streamed."""
    with open_feed(path) as handle:
        yield from iter_stream(handle)


def iter_stream(handle: TextIO) -> Iterator[CveItem]:
    """Every CVE of a feed read from a text stream (see the module docstring)."""
    reader = _Reader(handle)
    reader.expect("{")
    if reader.peek() == "}":
        return
    while True:
        key = reader.value()
        reader.expect(":")
        if key == "vulnerabilities":
            yield from _vulnerabilities(reader)
        else:
            reader.value()
        if reader.separator("}"):
            return


def _vulnerabilities(reader: _Reader) -> Iterator[CveItem]:
    reader.expect("[")
    if reader.peek() == "]":
        reader.expect("]")
        return
    while True:
        element = reader.value()
        if not isinstance(element, dict) or "cve" not in element:
            raise NvdFormatError("a vulnerabilities[] element is not an object with a 'cve' key")
        yield parse_cve(element["cve"])
        if reader.separator("]"):
            return


class _Reader:
    """A JSON tokenizer over a text stream that decodes one value at a time and forgets what it consumed."""

    def __init__(self, handle: TextIO):
        self.handle, self.buffer, self.position, self.eof = handle, "", 0, False
        self.decoder = json.JSONDecoder()

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.handle.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.buffer = self.buffer[self.position:] + chunk
        self.position = 0
        return True

    def peek(self) -> str:
        while True:
            while self.position < len(self.buffer) and self.buffer[self.position] in " \t\r\n":
                self.position += 1
            if self.position < len(self.buffer):
                return self.buffer[self.position]
            if not self._fill():
                raise NvdFormatError("the feed ends before its JSON does (truncated file?)")

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise NvdFormatError(f"expected {char!r} in the NVD feed, found {self.buffer[self.position]!r}")
        self.position += 1

    def separator(self, closing: str) -> bool:
        """Consume ',' (False: more follows) or the closing bracket (True)."""
        char = self.peek()
        if char not in (",", closing):
            raise NvdFormatError(f"expected ',' or {closing!r} in the NVD feed, found {char!r}")
        self.position += 1
        return char == closing

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.position)
            except json.JSONDecodeError as exc:
                if self._fill():
                    continue
                raise NvdFormatError(f"invalid JSON in the NVD feed: {exc.msg}") from exc
            # A number cut at the chunk's end decodes fine but short: only trust a value that is followed
            # by something, or that ends the file.
            if end < len(self.buffer) or self.eof or not self._fill():
                self.position = end
                return value
