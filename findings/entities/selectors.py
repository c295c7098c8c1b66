"""Entities and associations of a scan (seed 001), built from its Host, Service and Certificate rows.

Entities (ids are stable strings, unique within one answer):
  target       "target:<ip or hostname>"             one per host the scan found
  port         "port:<host>:<port>/<protocol>"        open ports only (seed 001: "open ports found")
  service      "service:<host>:<port>/<protocol>"     when the port's service, product or version is known
  banner       "banner:<host>:<port>/<protocol>"      when the service sent a banner
  certificate  "certificate:<sha256>"                 one per distinct certificate, however many ports show it
Associations: target -has_port-> port, port -runs_service-> service, service -presents_certificate->
certificate (target -presents_certificate-> certificate when the certificate has no service row),
service -has_banner-> banner.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from scans.models import Certificate, Host, Scan, Service


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _certificate_id(certificate: Certificate) -> str:
    fallback = f"{certificate.host}:{certificate.port}:{certificate.serial}"
    return f"certificate:{certificate.fingerprint_sha256 or fallback}"


def scan_entities(*, tenant_id: int, scan: Scan) -> dict[str, list[dict[str, Any]]]:
    """{"entities": [...], "associations": [...]} for the scan. Three queries; writes nothing."""
    services = Service.objects.for_tenant(tenant_id).filter(state="open").order_by("port", "protocol")
    hosts = (Host.objects.for_tenant(tenant_id).filter(scan=scan).order_by("ip", "hostname")
             .prefetch_related(Prefetch("services", queryset=services)))
    entities: list[dict[str, Any]] = []
    associations: list[dict[str, str]] = []
    service_ids: dict[int, str] = {}
    target_ids: dict[str, str] = {}
    for host in hosts:
        address = host.ip or host.hostname
        target_id = f"target:{address}"
        target_ids[address] = target_id
        entities.append({"id": target_id, "type": "target", "attributes": {
            "value": address, "ip": host.ip or None, "hostname": host.hostname or None, "scan_target": scan.target_value,
            "os_guess": host.os_guess or None}})
        for service in host.services.all():
            suffix = f"{address}:{service.port}/{service.protocol}"
            entities.append({"id": f"port:{suffix}", "type": "port", "attributes": {
                "host": address, "port": service.port, "protocol": service.protocol, "state": service.state}})
            associations.append({"from": target_id, "to": f"port:{suffix}", "type": "has_port"})
            if service.service or service.product or service.version or service.cpes:
                service_ids[service.pk] = f"service:{suffix}"
                entities.append({"id": f"service:{suffix}", "type": "service", "attributes": {
                    "name": service.service or None, "product": service.product or None,
                    "version": service.version or None, "cpes": service.cpes}})
                associations.append({"from": f"port:{suffix}", "to": f"service:{suffix}", "type": "runs_service"})
            if service.banner:
                entities.append({"id": f"banner:{suffix}", "type": "banner", "attributes": {"text": service.banner}})
                owner = service_ids.get(service.pk, f"port:{suffix}")
                associations.append({"from": owner, "to": f"banner:{suffix}", "type": "has_banner"})
    seen_certificates: set[str] = set()
    for certificate in Certificate.objects.for_tenant(tenant_id).filter(scan=scan).order_by("host", "port", "pk"):
        certificate_id = _certificate_id(certificate)
        if certificate_id not in seen_certificates:
            seen_certificates.add(certificate_id)
            entities.append({"id": certificate_id, "type": "certificate", "attributes": {
                "subject": certificate.subject, "issuer": certificate.issuer, "sans": certificate.sans,
                "not_before": _iso(certificate.not_before), "not_after": _iso(certificate.not_after),
                "key_type": certificate.key_type or None, "key_bits": certificate.key_bits,
                "signature_algorithm": certificate.signature_algorithm or None,
                "fingerprint_sha256": certificate.fingerprint_sha256 or None, "serial": certificate.serial or None,
                "chain_position": certificate.chain_position}})
        owner: str | None = service_ids.get(certificate.service_id or 0) or target_ids.get(certificate.host)
        if owner:
            association = {"from": owner, "to": certificate_id, "type": "presents_certificate"}
            if association not in associations:
                associations.append(association)
    return {"entities": entities, "associations": associations}
