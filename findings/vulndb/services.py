"""Writes of the vulnerability database: loading NVD feeds, and turning CVE matches into findings."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from itertools import islice

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from engines.cve.aliases import product_keys
from engines.cve.cpe import CpeError
from engines.cve.match import Detected, match_configurations
from engines.cve.nvd import Configuration, CpeMatch, CveItem, configurations_from_json, configurations_to_json
from engines.records import FindingRecord, Severity, clip
from findings.models import KnownCve, KnownCveProduct
from findings.services import findings_ingest
from findings.vulndb.selectors import known_cves_for_products, scan_services_with_cpes
from scans.models import Scan, Service

ENGINE = "cve-match"
NVD_DETAIL = "https://nvd.nist.gov/vuln/detail/"


@dataclass
class LoadStats:
    cves: int = 0
    products: int = 0
    rejected: int = 0


def _when(value: str) -> datetime | None:
    parsed = parse_datetime(value) if value else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)  # NVD writes UTC without an offset
    return parsed


def _batches(items: Iterable[CveItem], size: int) -> Iterator[list[CveItem]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def known_cves_load(*, items: Iterable[CveItem], batch_size: int = 500) -> LoadStats:
    """Upsert CVEs (from engines.cve.nvd.iter_feed) and their product index, one transaction per batch.

    Writes KnownCve (every field replaced by the feed's) and KnownCveProduct (a CVE's rows replaced as a
    whole, since its configurations may have changed); deletes CVEs the feed marks Rejected. Idempotent:
    loading the same feed twice leaves the same rows. Reads the items lazily, so a yearly feed streams."""
    stats = LoadStats()
    for batch in _batches(items, batch_size):
        with transaction.atomic():
            _load_batch(batch, stats)
    return stats


def _load_batch(batch: list[CveItem], stats: LoadStats) -> None:
    latest = {item.cve_id: item for item in batch}  # a feed listing a CVE twice: the later entry wins
    rejected = [cve_id for cve_id, item in latest.items() if item.rejected]
    if rejected:
        KnownCve.objects.filter(cve_id__in=rejected).delete()
        stats.rejected += len(rejected)
    accepted = [item for item in latest.values() if not item.rejected]
    now = timezone.now()
    KnownCve.objects.bulk_create(
        [KnownCve(cve_id=item.cve_id, published=_when(item.published), last_modified=_when(item.last_modified),
                  description=item.description,
                  cvss_score=None if item.cvss_score is None else Decimal(str(round(item.cvss_score, 1))),
                  cvss_vector=item.cvss_vector[:200], severity=item.severity[:16], cwe_ids=list(item.cwe_ids),
                  references=list(item.references), configurations=configurations_to_json(item.configurations),
                  loaded_at=now) for item in accepted],
        update_conflicts=True, unique_fields=["cve_id"],
        update_fields=["published", "last_modified", "description", "cvss_score", "cvss_vector", "severity",
                       "cwe_ids", "references", "configurations", "loaded_at"],
    )
    ids = dict(KnownCve.objects.filter(cve_id__in=[item.cve_id for item in accepted]).values_list("cve_id", "pk"))
    KnownCveProduct.objects.filter(cve_id__in=ids.values()).delete()
    products = [KnownCveProduct(cve_id=ids[item.cve_id], part=part, vendor=vendor[:128], product=product[:128])
                for item in accepted for part, vendor, product in sorted(item.products())]
    KnownCveProduct.objects.bulk_create(products, batch_size=1000)
    stats.cves += len(accepted)
    stats.products += len(products)


def _range_text(match: CpeMatch) -> str:
    bounds = [f">= {match.version_start_including}" if match.version_start_including else "",
              f"> {match.version_start_excluding}" if match.version_start_excluding else "",
              f"<= {match.version_end_including}" if match.version_end_including else "",
              f"< {match.version_end_excluding}" if match.version_end_excluding else ""]
    return ", ".join(bound for bound in bounds if bound)


def _record(service: Service, detected: Detected, cve: KnownCve, match: CpeMatch) -> FindingRecord:
    score = None if cve.cvss_score is None else float(cve.cvss_score)
    severity = Severity(cve.severity) if cve.severity in {s.value for s in Severity} else Severity.from_cvss(score)
    product = service.product or detected.cpe.product
    bounds = _range_text(match)
    affected = f"{match.criteria} ({bounds})" if bounds else match.criteria
    return FindingRecord(
        engine=ENGINE, rule_id=cve.cve_id, title=clip(f"{cve.cve_id} in {product} {detected.version}".strip(), 500),
        severity=severity, host=service.host.ip or service.host.hostname, port=service.port,
        protocol=service.protocol, cvss_score=score, cve_ids=(cve.cve_id,), cwe_ids=tuple(cve.cwe_ids),
        description=clip(cve.description),
        remediation=f"Upgrade {product} to a version outside the affected range: {affected}.",
        evidence=clip(f"detected {detected.cpe.formatted()} (version {detected.version or 'unknown'}) "
                      f"matches {affected}"),
        references=(f"{NVD_DETAIL}{cve.cve_id}", *cve.references[:19]), category="vulnerability",
    )


def _detected(values: Iterable[str], fallback_version: str = "") -> list[Detected]:
    found = []
    for value in values:
        try:
            found.append(Detected.from_cpe(value, fallback_version=fallback_version))
        except CpeError:
            continue
    return found


def cve_records_for_services(services: list[Service]) -> list[FindingRecord]:
    """FindingRecords for every (service, CVE) match; the host's other CPEs serve as its platform."""
    platforms: dict[int, list[Detected]] = {}
    for service in services:
        platforms.setdefault(service.host_id, []).extend(_detected(service.cpes))
    products = [(service, detected) for service in services
                for detected in _detected(service.cpes, service.version) if detected.cpe.part == "a"]
    keys = {key for _, detected in products for key in product_keys(detected.cpe.key)}
    candidates = known_cves_for_products(keys)
    configurations: dict[int, tuple[Configuration, ...]] = {}
    records = []
    for service, detected in products:
        platform = [item for item in platforms[service.host_id] if item.cpe != detected.cpe]
        cves = {cve.pk: cve for key in product_keys(detected.cpe.key) for cve in candidates.get(key, [])}
        for cve in sorted(cves.values(), key=lambda c: c.cve_id):
            parsed = configurations.setdefault(cve.pk, configurations_from_json(cve.configurations))
            match = match_configurations(parsed, detected, platform)
            if match is not None:
                records.append(_record(service, detected, cve, match))
    return records


def cve_findings_for_services(*, tenant_id: int, scan: Scan) -> int:
    """Match the CPEs of the scan's open services (nmap -sV fills Service.cpes) against the loaded NVD data
    and ingest each match as a finding of engine "cve-match" through findings_ingest.

    Writes Finding and FindingOccurrence rows (findings_ingest's rules: de-duplicated by fingerprint, which
    for these is the CVE id and host:port/protocol). Idempotent per scan. No network. Returns the number of
    distinct findings ingested (0 when nothing matched or no database is loaded)."""
    records = cve_records_for_services(scan_services_with_cpes(tenant_id=tenant_id, scan=scan))
    if not records:
        return 0
    return findings_ingest(tenant_id=tenant_id, scan_id=str(scan.pk), records=records, seen_at=timezone.now())
