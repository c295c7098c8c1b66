"""Parse sqlmap's output into Lantern records.

Formats handled, told apart by content:

* The ``log`` file sqlmap writes in its output directory (``<output-dir>/<host>/log``): one or more sections
  ``sqlmap identified (or resumed) the following injection point(s) ...:`` / ``---`` / ``Parameter: <name>
  (<place>)`` blocks of ``Type:``/``Title:``/``Payload:`` lines / ``---``, each followed by fingerprint lines
  such as ``back-end DBMS: SQLite``. The log does not name the URL; when a ``target.txt`` sits next to the log
  (sqlmap writes one in the same directory, URL first) the URL is read from it.
* The results CSV (``--results-file`` / ``results-*.csv``): header ``Target URL,Place,Parameter,Technique(s),
  Note(s)`` and one row per injectable parameter, techniques as letters (B boolean-based blind, E error-based,
  U UNION query, S stacked queries, T time-based blind, Q inline query).

One FindingRecord per injectable (URL, place, parameter); appended runs of the same target merge their
techniques. Severity: high for every confirmed injection (CWE-89). High rather than critical because sqlmap
proves that the parameter reaches the query, not what the database account may read or change; the techniques
and DBMS are in the description and evidence for a reviewer to raise it. A CSV row that sqlmap itself notes as
``false positive or unexploitable`` is kept at low.

The location is the URL without its query string plus the place and parameter (``http://h/item (GET parameter
'id')``), so that every parameter gets its own fingerprint and a changed test value does not make a new one.
An empty file yields nothing; anything else that is neither format raises ParseError.
"""

from __future__ import annotations

import csv
import io
import pathlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from engines.errors import ParseError
from engines.records import FindingRecord, Record, Severity, clip

ENGINE = "sqlmap"
CSV_HEADER = ("Target URL", "Place", "Parameter", "Technique(s)", "Note(s)")
TECHNIQUES = {
    "B": "boolean-based blind",
    "E": "error-based",
    "U": "UNION query",
    "S": "stacked queries",
    "T": "time-based blind",
    "Q": "inline query",
}
FALSE_POSITIVE_NOTE = "false positive"

_SECTION_HEADER = re.compile(r"^sqlmap (identified|resumed) the following injection point")
_PARAMETER = re.compile(r"^Parameter: (?P<parameter>.+?) \((?P<place>.+)\)\s*$")
_TYPE = re.compile(r"^\s+Type: (?P<type>.+?)\s*$")
_DBMS = re.compile(r"^back-end DBMS: (?:active fingerprint: )?(?P<dbms>.+?)\s*$")


@dataclass
class Injection:
    """One injectable parameter, filled in as lines or rows are read."""

    url: str
    place: str
    parameter: str
    techniques: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    dbms: str = ""
    note: str = ""


def parse(path: pathlib.Path) -> Iterator[Record]:
    """Yield one finding per injectable parameter found in a sqlmap log or results CSV."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    if not text.strip():
        return
    first_line = text.lstrip("\ufeff").splitlines()[0].strip()
    if first_line.startswith("Target URL,"):
        injections = parse_csv(text, path.name)
    elif _looks_like_log(text):
        injections = parse_log(text.splitlines(), _target_url(path))
    else:
        raise ParseError(f"{path.name}: neither a sqlmap log (no injection point section) nor a results CSV")
    for injection in injections:
        yield finding(injection)


def _looks_like_log(text: str) -> bool:
    """A sqlmap log always carries the injection section header or a back-end DBMS line."""
    return any(_SECTION_HEADER.match(line) or _DBMS.match(line) for line in text.splitlines())


def _target_url(log_path: pathlib.Path) -> str:
    """The URL from ``target.txt`` next to the log (``<url> (<method>)  # <command line>``), or empty."""
    target_file = log_path.parent / "target.txt"
    if not target_file.is_file():
        return ""
    lines = target_file.read_text(encoding="utf-8", errors="replace").split()
    return lines[0] if lines and "://" in lines[0] else ""


def parse_csv(text: str, name: str = "results.csv") -> list[Injection]:
    """Read the results CSV; rows whose columns do not match the header are a broken file."""
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = tuple(cell.strip() for cell in next(rows))
    if header[:4] != CSV_HEADER[:4]:
        raise ParseError(f"{name}: unexpected sqlmap CSV header {','.join(header)!r}")
    merged: dict[tuple[str, str, str], Injection] = {}
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 4 or not row[0].strip() or not row[2].strip():
            raise ParseError(f"{name}: line {number}: expected URL,Place,Parameter,Technique(s),Note(s)")
        letters = row[3].strip().upper()
        unknown = set(letters) - set(TECHNIQUES)
        if unknown:
            raise ParseError(f"{name}: line {number}: unknown technique letter(s) {''.join(sorted(unknown))}")
        injection = _merge(merged, row[0].strip(), row[1].strip(), row[2].strip())
        _add_techniques(injection, [TECHNIQUES[letter] for letter in letters])
        injection.note = ";".join(cell.strip() for cell in row[4:] if cell.strip())
    return list(merged.values())


def parse_log(lines: Iterable[str], url: str = "") -> list[Injection]:
    """Read injection sections; DBMS lines after a section apply to that section's injections."""
    merged: dict[tuple[str, str, str], Injection] = {}
    section: list[Injection] = []
    current: Injection | None = None
    in_block = False
    for line in lines:
        if _SECTION_HEADER.match(line):
            section, current, in_block = [], None, False
        elif line.strip() == "---":
            in_block, current = not in_block, None
        elif in_block and (match := _PARAMETER.match(line)):
            current = _merge(merged, url, match["place"], match["parameter"])
            section.append(current)
        elif in_block and current is not None:
            _read_detail(current, line)
        elif match := _DBMS.match(line):
            for injection in section:
                injection.dbms = match["dbms"]
    return list(merged.values())


def _read_detail(injection: Injection, line: str) -> None:
    """Keep Type/Title/Payload lines as evidence, once each (appended runs repeat them)."""
    if not line.strip() or line.strip() in injection.details:
        return
    injection.details.append(line.strip())
    if match := _TYPE.match(line):
        _add_techniques(injection, [match["type"]])


def _merge(merged: dict[tuple[str, str, str], Injection], url: str, place: str, parameter: str) -> Injection:
    """Return the injection for (URL, place, parameter), creating it on first sight."""
    key = (url, place, parameter)
    if key not in merged:
        merged[key] = Injection(url=url, place=place, parameter=parameter)
    return merged[key]


def _add_techniques(injection: Injection, techniques: list[str]) -> None:
    for technique in techniques:
        if technique not in injection.techniques:
            injection.techniques.append(technique)


def _base_url(url: str) -> str:
    """The URL without query and fragment: test values in the query must not change the fingerprint."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))


def _host_port(url: str) -> tuple[str, int | None]:
    """Host and port of the URL (default port of the scheme when none is written)."""
    if "://" not in url:
        return "", None
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return parts.hostname or "", None
    if port is None:
        port = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.hostname or "", port


def finding(injection: Injection) -> FindingRecord:
    """Build the CWE-89 finding for one injectable parameter."""
    where = f"{injection.place} parameter '{injection.parameter}'"
    base = _base_url(injection.url)
    host, port = _host_port(injection.url)
    techniques = ", ".join(injection.techniques) or "unknown"
    false_positive = FALSE_POSITIVE_NOTE in injection.note.lower()
    description = f"sqlmap found the {where} injectable using: {techniques}."
    if injection.dbms:
        description += f" Back-end DBMS: {injection.dbms}."
    if injection.note:
        description += f" sqlmap note: {injection.note}."
    evidence = [f"URL: {injection.url}"] if injection.url else []
    evidence += [f"Techniques: {techniques}", *injection.details]
    return FindingRecord(
        engine=ENGINE,
        rule_id="sql-injection",
        title=clip(f"SQL injection in {where}", 500),
        severity=Severity.LOW if false_positive else Severity.HIGH,
        host=host,
        port=port,
        protocol="tcp" if port is not None else "",
        location=f"{base} ({where})" if base else where,
        cwe_ids=("CWE-89",),
        description=clip(description),
        remediation="Use parameterised queries (prepared statements) for every value that reaches SQL; "
        "never build queries by string concatenation.",
        evidence=clip("\n".join(evidence)),
        references=("https://cwe.mitre.org/data/definitions/89.html",),
        category="sql-injection",
        extra={
            "url": injection.url,
            "place": injection.place,
            "parameter": injection.parameter,
            "techniques": techniques,
            "dbms": injection.dbms,
            "note": injection.note,
        },
    )
