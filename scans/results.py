"""Storing what engines found: hosts, services and certificates of a scan, and findings via the findings
service. Upserts, so a second engine step over the same host refines rows instead of duplicating them."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from engines.records import (AssetRecord, CertificateRecord, FindingRecord, HostRecord, Record,
                             ServiceRecord)
from findings.services import findings_ingest
from scans.models import Certificate, Host, Scan, Service


@dataclass
class StoredCounts:
    hosts: int = 0
    open_ports: int = 0
    findings: int = 0
    new_hosts: list[str] = field(default_factory=list)


def _host_key(value: str) -> tuple[str, str]:
    """(ip, hostname) for a record's host field, which is an IP or, failing that, a name."""
    return (value, "") if _looks_like_ip(value) else ("", value)


def _looks_like_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


@transaction.atomic
def scan_results_store(*, scan: Scan, records: Iterable[Record]) -> StoredCounts:
    """Upsert the records of one engine step into the scan's hosts, services, certificates and findings.
    Writes Host, Service, Certificate, Finding and FindingOccurrence rows. Idempotent for hosts and services."""
    hosts: dict[tuple[str, str], HostRecord] = {}
    services: list[ServiceRecord] = []
    certificates: list[CertificateRecord] = []
    findings: list[FindingRecord] = []
    for record in records:
        if isinstance(record, HostRecord):
            hosts[(record.ip, "" if record.ip else record.hostname)] = record
        elif isinstance(record, ServiceRecord):
            services.append(record)
        elif isinstance(record, CertificateRecord):
            certificates.append(record)
        elif isinstance(record, FindingRecord):
            findings.append(record)
        elif isinstance(record, AssetRecord):
            continue  # assets are stored by the discovery phase of plans (OSINT engines)
    for service in services:
        key = _host_key(service.host)
        hosts.setdefault(key, HostRecord(ip=key[0], hostname=key[1]))
    existing = set(Host.objects.filter(scan=scan).values_list("ip", "hostname"))
    # Tools print what they like: every string is cut to its column, never a failed scan for a long banner.
    Host.objects.bulk_create(
        [Host(tenant_id=scan.tenant_id, scan=scan, ip=ip[:64], hostname=(record.hostname if ip else name)[:253],
              mac=record.mac[:32], vendor=record.vendor[:200], os_guess=record.os_guess[:200])
         for (ip, name), record in hosts.items()],
        update_conflicts=True, unique_fields=["scan", "ip", "hostname"],
        update_fields=["mac", "vendor", "os_guess"],
    )
    host_ids = {(h.ip, h.hostname): h.pk for h in Host.objects.filter(scan=scan)}
    by_address = {ip or name: pk for (ip, name), pk in host_ids.items()}
    rows: dict[tuple[int, int, str], Service] = {}
    for record in services:
        host_id = by_address[record.host] if record.host in by_address else host_ids[_host_key(record.host)]
        row = Service(tenant_id=scan.tenant_id, scan=scan, host_id=host_id, port=record.port,
                      protocol=record.protocol[:8], state=record.state[:32], service=record.service[:64],
                      product=record.product[:200], version=record.version[:200], banner=record.banner,
                      cpes=[cpe[:200] for cpe in record.cpes])
        key = (host_id, row.port, row.protocol)
        rows[key] = _merged(rows.get(key), row)
    for stored in Service.objects.filter(scan=scan, host_id__in={key[0] for key in rows}):
        key = (stored.host_id, stored.port, stored.protocol)
        if key in rows:
            rows[key] = _merged(stored, rows[key])
    Service.objects.bulk_create(
        list(rows.values()), update_conflicts=True, unique_fields=["host", "port", "protocol"],
        update_fields=["state", "service", "product", "version", "banner", "cpes"],
    )
    _store_certificates(scan, certificates)
    if findings:
        findings_ingest(tenant_id=scan.tenant_id, scan_id=str(scan.pk), records=findings, seen_at=timezone.now())
    counts = StoredCounts(
        hosts=len(host_ids),
        open_ports=Service.objects.filter(scan=scan, state="open").count(),
        findings=len(findings),
        new_hosts=[ip or name for (ip, name) in host_ids if (ip, name) not in existing],
    )
    return counts


_MERGED_FIELDS = ("state", "service", "product", "version", "banner", "cpes")


def _merged(known: Service | None, new: Service) -> Service:
    """`new` with the blanks filled from `known`: a later tool that says less (wapiti names no product)
    must not erase what an earlier one identified (nmap -sV)."""
    if known is None:
        return new
    for name in _MERGED_FIELDS:
        if not getattr(new, name):
            setattr(new, name, getattr(known, name))
    return new


def _store_certificates(scan: Scan, certificates: list[CertificateRecord]) -> None:
    if not certificates:
        return
    services = {(s.host.ip or s.host.hostname, s.port): s.pk
                for s in Service.objects.filter(scan=scan).select_related("host")}
    known = set(Certificate.objects.filter(scan=scan).values_list("fingerprint_sha256", "host", "port"))
    Certificate.objects.bulk_create([
        Certificate(tenant_id=scan.tenant_id, scan=scan, service_id=services.get((c.host, c.port)),
                    host=c.host[:253], port=c.port, subject=c.subject, issuer=c.issuer,
                    sans=[san[:253] for san in c.sans], not_before=c.not_before,
                    not_after=c.not_after, key_type=c.key_type[:32], key_bits=c.key_bits,
                    signature_algorithm=c.signature_algorithm[:64], fingerprint_sha256=c.fingerprint_sha256[:64],
                    serial=c.serial[:128], chain_position=c.chain_position)
        for c in certificates if (c.fingerprint_sha256, c.host, c.port) not in known
    ])
