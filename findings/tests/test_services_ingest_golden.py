"""Every engine's golden output files ingest cleanly: whatever a parser yields fits the findings tables
(lengths, arrays, CVSS) and de-duplicates to one finding per fingerprint."""

import importlib
from pathlib import Path

import pytest

from engines.errors import ParseError
from engines.records import FindingRecord
from findings.models import Finding
from findings.tests.factories import ingest, make_scan

ENGINES_DIR = Path(__file__).resolve().parents[2] / "engines"
CASES = sorted(
    (engine.name, path)
    for engine in ENGINES_DIR.iterdir() if (engine / "parse.py").is_file() and (engine / "tests" / "fixtures").is_dir()
    for path in (engine / "tests" / "fixtures").iterdir() if path.is_file() and path.suffix != ".md"
)


def _findings(engine: str, path: Path) -> list[FindingRecord]:
    parse = importlib.import_module(f"engines.{engine}.parse").parse
    try:
        return [record for record in parse(path) if isinstance(record, FindingRecord)]
    except ParseError:
        return []  # a fixture kept to prove the parser refuses it


def test_there_are_golden_files():
    assert len({engine for engine, _ in CASES}) >= 8


@pytest.mark.parametrize("engine, path", CASES, ids=[f"{e}/{p.name}" for e, p in CASES])
def test_golden_file_ingests(tenant_a, engine, path):
    records = _findings(engine, path)
    scan = make_scan(tenant_a.tenant_id)
    assert ingest(scan, *records) == len({record.fingerprint for record in records})
    assert Finding.objects.filter(tenant_id=tenant_a.tenant_id).count() == len({r.fingerprint for r in records})
    assert ingest(scan, *records) == len({record.fingerprint for record in records})
    assert set(Finding.objects.values_list("occurrences", flat=True)) <= {1}
