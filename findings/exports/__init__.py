"""Exports of findings as SARIF 2.1.0, CSV and JSON: generators of text chunks, so a response can stream a
million findings without holding them. They render what they are given and read nothing themselves."""

from findings.exports.sarif import sarif_chunks
from findings.exports.tabular import CSV_COLUMNS, csv_chunks, json_chunks, safe_cell

FORMATS = {
    "sarif": ("application/sarif+json", "sarif", sarif_chunks),
    "csv": ("text/csv; charset=utf-8", "csv", csv_chunks),
    "json": ("application/json", "json", json_chunks),
}

__all__ = ["CSV_COLUMNS", "FORMATS", "csv_chunks", "json_chunks", "safe_cell", "sarif_chunks"]
