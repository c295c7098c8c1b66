"""Reads for CVE matching: a scan's detected products and the CVEs that name them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q

from findings.models import KnownCve, KnownCveProduct
from scans.models import Scan, Service


def scan_services_with_cpes(*, tenant_id: int, scan: Scan) -> list[Service]:
    """The scan's open services that carry CPE names, with their host."""
    return list(Service.objects.for_tenant(tenant_id).filter(scan=scan, state="open").exclude(cpes=[])
                .select_related("host").order_by("host_id", "port", "protocol"))


def known_cves_for_products(keys: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], list[KnownCve]]:
    """(part, vendor, product) -> the loaded CVEs whose vulnerable configurations name it. Two queries."""
    keys = set(keys)
    if not keys:
        return {}
    condition = Q()
    for part, vendor, product in keys:
        condition |= Q(part=part, vendor=vendor, product=product)
    rows = list(KnownCveProduct.objects.filter(condition).values_list("part", "vendor", "product", "cve_id"))
    cves = {cve.pk: cve for cve in KnownCve.objects.filter(pk__in={row[3] for row in rows}).order_by("cve_id")}
    found: dict[tuple[str, str, str], list[KnownCve]] = defaultdict(list)
    for part, vendor, product, cve_pk in rows:
        found[(part, vendor, product)].append(cves[cve_pk])
    return dict(found)
