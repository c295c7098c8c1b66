"""CSV and JSON exports of findings.

CSV cells are made safe for spreadsheets (CSV/formula injection, OWASP): a cell whose text starts with
= + - @ (or a tab or carriage return, which some spreadsheets skip before reading a formula) gets a leading
single quote, so "=HYPERLINK(...)" in a tool's title is shown as text, never evaluated.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from findings.models import Finding

CSV_COLUMNS = ("id", "title", "severity", "cvss_score", "status", "tool", "rule_id", "category",
               "affected_component", "host", "port", "cve_ids", "cwe_ids", "first_seen", "last_seen",
               "occurrences", "description", "remediation")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500


def iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def finding_export(finding: Finding) -> dict[str, Any]:
    """A finding in exports (the API's item shape plus the fields a report needs)."""
    return {
        "id": str(finding.uuid),
        "title": finding.title,
        "severity": finding.severity,
        "cvss_score": None if finding.cvss_score is None else float(finding.cvss_score),
        "status": finding.status,
        "tool": finding.tool,
        "rule_id": finding.rule_id,
        "category": finding.category,
        "affected_component": finding.affected_component,
        "host": finding.host,
        "port": finding.port,
        "cve_ids": list(finding.cve_ids),
        "cwe_ids": list(finding.cwe_ids),
        "first_seen": iso(finding.first_seen),
        "last_seen": iso(finding.last_seen),
        "occurrences": finding.occurrences,
        "description": finding.description,
        "remediation": finding.remediation,
        "fingerprint": finding.fingerprint,
    }


def safe_cell(value: Any) -> str:
    """A CSV cell as text, neutralised against formula injection; lists are joined with ';'."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = ";".join(str(item) for item in value)
    text = str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def csv_chunks(findings: Iterable[Finding]) -> Iterator[str]:
    """A header line, then the findings, ROWS_PER_CHUNK rows per yielded chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for rows, finding in enumerate(findings, start=1):
        data = finding_export(finding)
        writer.writerow([safe_cell(data[column]) for column in CSV_COLUMNS])
        if rows % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_chunks(findings: Iterable[Finding]) -> Iterator[str]:
    """{"items": [...], "total": n}: items streamed, the total written after them."""
    yield '{"items": ['
    total = 0
    parts: list[str] = []
    for finding in findings:
        parts.append(("," if total else "") + json.dumps(finding_export(finding), ensure_ascii=False))
        total += 1
        if len(parts) == ROWS_PER_CHUNK:
            yield "".join(parts)
            parts = []
    yield "".join(parts) + f'], "total": {total}}}'
