"""Reports run elsewhere (a CI pipeline's nuclei or ZAP run, a trivy report) become completed scans, stored
exactly as if Lantern had run the tool: the same parser, the same results and findings services.

The whole file is parsed before anything is written, in one transaction: a malformed or mismatched file
is a 400 that says what is wrong, and nothing is stored. The target is not scanned, so the target policy
does not apply to it; it is only checked for syntax. Imports do not count against the monthly quota.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from config.errors import ValidationFailed
from engines.errors import ParseError
from engines.records import FindingRecord, HostRecord, Record, ServiceRecord
from engines.registry import ENGINES
from scans.events import event_record
from scans.models import Scan, ScanStatus
from scans.results import scan_results_store
from scans.targets import TargetError, parse_target


def _records(engine: str, path: Path) -> list[Record]:
    if engine not in ENGINES:
        raise ValidationFailed(f"unknown engine {engine!r}; known: {', '.join(sorted(ENGINES))}", field="engine")
    parser = import_module(f"engines.{engine}.parse")
    try:
        return list(parser.parse(path))
    except ParseError as exc:
        raise ValidationFailed(f"the file is not a valid {engine} report: {exc}", field="file") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed(f"the file is not a valid {engine} report: {exc}", field="file") from None
    except RecursionError:
        raise ValidationFailed(f"the file is not a valid {engine} report: it nests too deeply",
                               field="file") from None


def _target_from(records: list[Record]) -> str:
    for record in records:
        if isinstance(record, HostRecord) and (record.ip or record.hostname):
            return record.hostname or record.ip
        if isinstance(record, (ServiceRecord, FindingRecord)) and record.host:
            return record.host
    raise ValidationFailed("the report names no host: give the target it is about", field="target")


def scan_import(*, tenant_id: int, api_key_pk: int | None, engine: str, path: Path, target: str = "",
                name: str = "") -> Scan:
    """Parse `path` as `engine`'s output and store it as a completed scan with its hosts, services,
    certificates and findings. Writes one Scan, its results and a scan.completed event. Not idempotent."""
    records = _records(engine, path)
    raw_target = target or _target_from(records)
    try:
        parsed = parse_target(raw_target)
    except TargetError as exc:
        raise ValidationFailed(str(exc), field="target") from None
    now = timezone.now()
    with transaction.atomic():
        scan = Scan.objects.create(
            tenant_id=tenant_id, created_by_key_id=api_key_pk, surface="import", name=name[:200],
            target=raw_target[:2048], target_value=parsed.value, target_type=parsed.type.value,
            destination=(parsed.host or parsed.value).lower(), engine=engine, options={"imported_file": path.name},
            plan=[{"phase": "import", "steps": []}], status=ScanStatus.RUNNING, timeout_s=1, queue="",
            started_at=now, phase="import",
        )
        counts = scan_results_store(scan=scan, records=records)
        Scan.objects.filter(pk=scan.pk).update(
            status=ScanStatus.COMPLETED, progress=100, phase="complete", phases_completed=["import"],
            hosts_found=counts.hosts, ports_found=counts.open_ports, completed_at=timezone.now())
        event_record(tenant_id=tenant_id, scan_id=scan.pk, type="scan.completed",
                     payload={"status": "completed", "imported": True, "devices_found": counts.hosts,
                              "open_ports_total": counts.open_ports, "findings": counts.findings, "duration": 0})
    return scan
