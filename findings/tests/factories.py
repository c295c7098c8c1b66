"""Builders for findings tests: scans with hosts and services, and findings stored through the real ingest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from engines.records import FindingRecord, Severity
from findings.services import findings_ingest
from scans.models import Certificate, Host, Scan, Service

NMAP_PLAN = [{"phase": "scan", "steps": [{"engine": "nmap", "options": {"serviceDetection": True}}]}]


def make_scan(tenant_id: int, *, target: str = "127.0.0.1", status: str = "completed", engine: str = "nmap",
              plan: list[dict[str, Any]] | None = None, created_at: datetime | None = None,
              **fields: Any) -> Scan:
    plan = NMAP_PLAN if plan is None else plan
    completed = fields.pop("phases_completed", None)
    if completed is None:
        completed = [phase["phase"] for phase in plan if not phase.get("skipped")] if status == "completed" else []
    scan = Scan.objects.create(tenant_id=tenant_id, target=target, target_value=target, target_type="ip",
                               engine=engine, plan=plan, status=status, timeout_s=600, phases_completed=completed,
                               completed_at=timezone.now() if status == "completed" else None, **fields)
    if created_at is not None:
        Scan.objects.filter(pk=scan.pk).update(created_at=created_at)
        scan.refresh_from_db()
    return scan


def make_service(scan: Scan, *, ip: str = "127.0.0.1", port: int = 80, protocol: str = "tcp",
                 state: str = "open", service: str = "http", product: str = "", version: str = "",
                 banner: str = "", cpes: Sequence[str] = (), hostname: str = "") -> Service:
    host, _ = Host.objects.get_or_create(tenant_id=scan.tenant_id, scan=scan, ip=ip, hostname=hostname)
    return Service.objects.create(tenant_id=scan.tenant_id, scan=scan, host=host, port=port, protocol=protocol,
                                  state=state, service=service, product=product, version=version, banner=banner,
                                  cpes=list(cpes))


def make_certificate(scan: Scan, *, service: Service | None = None, host: str = "127.0.0.1", port: int = 443,
                     fingerprint: str = "ab" * 32, subject: str = "CN=localhost") -> Certificate:
    now = timezone.now()
    return Certificate.objects.create(
        tenant_id=scan.tenant_id, scan=scan, service=service, host=host, port=port, subject=subject,
        issuer="CN=Lantern Test CA", sans=["localhost"], not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=30), key_type="RSA", key_bits=2048, signature_algorithm="sha256WithRSA",
        fingerprint_sha256=fingerprint, serial="01")


def record(rule_id: str = "rule-1", *, engine: str = "nuclei", severity: Severity = Severity.HIGH,
           location: str = "", host: str = "127.0.0.1", port: int | None = 80, **fields: Any) -> FindingRecord:
    return FindingRecord(engine=engine, rule_id=rule_id, title=fields.pop("title", f"Issue {rule_id}"),
                         severity=severity, host=host, port=port, protocol="tcp" if port else "",
                         location=location, **fields)


def ingest(scan: Scan, *records: FindingRecord, seen_at: datetime | None = None) -> int:
    return findings_ingest(tenant_id=scan.tenant_id, scan_id=str(scan.pk), records=list(records),
                           seen_at=seen_at or timezone.now())
