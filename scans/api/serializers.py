"""Input and output shapes of the native API (seed 003, with seed 004's fields in the superset)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from scans.models import Priority, Scan
from scans.plans import plan_phases

STATUS_ALIASES = {"pending": "queued"}  # seed 003's word for queued is accepted in filters
OPEN_STATES = ("open", "open|filtered")
STATUSES = ("queued", "running", "completed", "failed", "cancelled")


def iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


class ScanCreateInput(serializers.Serializer):
    target = serializers.CharField(max_length=2048, trim_whitespace=False)
    authorized = serializers.BooleanField(
        help_text="Confirms that you are authorised to scan this target; must be true.")
    scan_type = serializers.ChoiceField(choices=["quick", "full", "compliance"], required=False)
    engine = serializers.CharField(max_length=32, required=False,
                                   help_text="Run one engine instead of a scan type (e.g. nmap).")
    options = serializers.JSONField(required=False, help_text="Engine options (see GET /api/v1/engines).")
    target_type = serializers.ChoiceField(choices=["domain", "host", "ip", "network", "url", "image"],
                                          required=False)
    ports = serializers.CharField(max_length=4000, required=False)
    frameworks = serializers.ListField(child=serializers.ChoiceField(choices=["soc2", "pci-dss"]),
                                       required=False, max_length=2)
    priority = serializers.ChoiceField(choices=[p.label for p in Priority], default="normal")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=32)
    timeout = serializers.IntegerField(required=False, min_value=1)

    def validate_authorized(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError("must be true: confirm that you are authorised to scan the target")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("engine") and attrs.get("scan_type"):
            raise serializers.ValidationError({"engine": "give either engine or scan_type, not both"})
        if attrs.get("engine") and attrs.get("ports"):
            raise serializers.ValidationError({"ports": "with an engine, put ports in options"})
        if not attrs.get("engine"):
            attrs.setdefault("scan_type", "full")
            if "options" in attrs:
                raise serializers.ValidationError({"options": "options need an engine"})
        return attrs


class ScanListQuery(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)
    per_page = serializers.IntegerField(min_value=1, max_value=100, default=20)
    status = serializers.CharField(required=False)
    target = serializers.CharField(required=False, max_length=2048)
    from_date = serializers.DateTimeField(required=False)
    to_date = serializers.DateTimeField(required=False)

    def validate_status(self, value: str) -> str:
        status = STATUS_ALIASES.get(value, value)
        if status not in STATUSES:
            raise serializers.ValidationError(f"must be one of {', '.join(STATUSES)} (or pending)")
        return status


def _counts(scan: Scan) -> dict[str, int]:
    stored = scan.finding_counts or {}
    counts = {f"{s}_count": stored.get(s, 0) for s in ("critical", "high", "medium", "low", "info")}
    counts["vulnerabilities_found"] = sum(counts.values()) - counts["info_count"]
    return counts


def scan_summary(scan: Scan) -> dict[str, Any]:
    """A scan in lists (seed 003's list item)."""
    return {
        "id": str(scan.pk),
        "target": scan.target_value,
        "scan_type": scan.scan_type or None,
        "engine": scan.engine or None,
        "status": scan.status,
        "priority": scan.get_priority_display(),
        "progress": scan.progress,
        "phase": scan.phase or None,
        "name": scan.name,
        "tags": scan.tags,
        "created_at": iso(scan.created_at),
        "completed_at": iso(scan.completed_at),
        **_counts(scan),
    }


def scan_detail(scan: Scan) -> dict[str, Any]:
    """A scan on its own (seed 003's detail and seed 004's status, in one object)."""
    phases = plan_phases(scan.plan)
    done = set(scan.phases_completed) | set(scan.phases_skipped)
    remaining = [phase for phase in phases if phase not in done] if not scan.is_terminal else []
    return {
        **scan_summary(scan),
        "target_input": scan.target,
        "target_type": scan.target_type,
        "options": scan.options,
        "current_tool": scan.current_tool or None,
        "progress_percent": scan.progress,
        "hosts_found": scan.hosts_found,
        "ports_found": scan.ports_found,
        "started_at": iso(scan.started_at),
        "estimated_completion": iso(scan.estimated_completion),
        "phases_completed": scan.phases_completed,
        "phases_skipped": scan.phases_skipped,
        "phases_remaining": remaining,
        "steps_skipped": scan.extra.get("skipped_steps", []),
        "timeout": scan.timeout_s,
        "error": scan.error_reason or None,
    }


def scan_result(scan: Scan, hosts: list, certificates: list) -> dict[str, Any]:
    """Seed 004's result: devices with their ports, plus the certificates seen."""
    devices = [
        {
            "ip": host.ip or None,
            "mac": host.mac or None,
            "hostname": host.hostname or None,
            "vendor": host.vendor or None,
            "os_guess": host.os_guess or None,
            "ports": [
                {"port": s.port, "protocol": s.protocol, "state": s.state, "service": s.service or None,
                 "product": s.product or None, "version": s.version or None}
                for s in host.services.all() if s.state in OPEN_STATES
            ],
        }
        for host in hosts
    ]
    duration = None
    if scan.started_at and scan.completed_at:
        duration = round((scan.completed_at - scan.started_at).total_seconds())
    return {
        "id": str(scan.pk),
        "status": scan.status,
        "devices_found": len(devices),
        "open_ports_total": sum(1 for d in devices for p in d["ports"] if p["state"] == "open"),
        "duration_seconds": duration,
        "devices": devices,
        "certificates": [
            {"host": c.host, "port": c.port, "subject": c.subject, "issuer": c.issuer, "sans": c.sans,
             "not_before": iso(c.not_before), "not_after": iso(c.not_after), "key_type": c.key_type or None,
             "key_bits": c.key_bits, "signature_algorithm": c.signature_algorithm or None,
             "fingerprint_sha256": c.fingerprint_sha256 or None}
            for c in certificates
        ],
    }
