"""Input and output shapes of the findings API (seed 003's finding object, with Lantern's extra fields)."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

from findings.models import Finding, FindingOccurrence, FindingStatus, FindingStatusChange, Severity
from findings.selectors import FindingFilters, Page

_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)


def iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


class PageQuery(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, default=1)
    per_page = serializers.IntegerField(min_value=1, max_value=100, default=20)


class ScanFindingsQuery(PageQuery):
    severity = serializers.ChoiceField(choices=Severity.values, required=False)
    status = serializers.ChoiceField(choices=FindingStatus.values, required=False)


class FindingListQuery(ScanFindingsQuery):
    tool = serializers.CharField(max_length=32, required=False)
    host = serializers.CharField(max_length=253, required=False)
    target = serializers.CharField(max_length=2048, required=False)
    cve = serializers.CharField(max_length=32, required=False)
    from_date = serializers.DateTimeField(required=False, help_text="last_seen on or after (ISO 8601)")
    to_date = serializers.DateTimeField(required=False, help_text="last_seen on or before (ISO 8601)")

    def validate_cve(self, value: str) -> str:
        if not _CVE.match(value):
            raise serializers.ValidationError("must be a CVE id such as CVE-2021-44228")
        return value.upper()


def filters_from(query: dict[str, Any]) -> FindingFilters:
    return FindingFilters(severity=query.get("severity"), status=query.get("status"), tool=query.get("tool"),
                          host=query.get("host"), target=query.get("target"), cve=query.get("cve"),
                          seen_from=query.get("from_date"), seen_to=query.get("to_date"))


class ExportFormat(serializers.Serializer):
    format = serializers.ChoiceField(choices=["sarif", "csv", "json"])


class FindingExportQuery(FindingListQuery, ExportFormat):
    pass


class ScanExportQuery(ExportFormat):
    severity = serializers.ChoiceField(choices=Severity.values, required=False)
    status = serializers.ChoiceField(choices=FindingStatus.values, required=False)


class FindingPatchInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=FindingStatus.values)
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class ComplianceQuery(serializers.Serializer):
    framework = serializers.ChoiceField(choices=["soc2", "pci-dss"])


class DiffQuery(serializers.Serializer):
    against = serializers.CharField(max_length=64, required=False, help_text="a scan id of the same tenant")


def finding_item(finding: Finding, *, detected_at: Any = None) -> dict[str, Any]:
    """Seed 003's finding (id, title, severity, cvss_score, status, tool, affected_component, description,
    remediation, cve_ids, detected_at) plus Lantern's fields. detected_at is when this scan saw it (scan
    lists) or when any scan first saw it (the tenant-wide list)."""
    return {
        "id": str(finding.uuid),
        "title": finding.title,
        "severity": finding.severity,
        "cvss_score": None if finding.cvss_score is None else float(finding.cvss_score),
        "status": finding.status,
        "tool": finding.tool,
        "affected_component": finding.affected_component,
        "description": finding.description,
        "remediation": finding.remediation,
        "cve_ids": list(finding.cve_ids),
        "detected_at": iso(detected_at or finding.first_seen),
        "rule_id": finding.rule_id,
        "category": finding.category or None,
        "host": finding.host or None,
        "port": finding.port,
        "cwe_ids": list(finding.cwe_ids),
        "references": list(finding.references),
        "first_seen": iso(finding.first_seen),
        "last_seen": iso(finding.last_seen),
        "occurrences": finding.occurrences,
        "status_changed_at": iso(finding.status_changed_at),
        "status_changed_by": finding.status_changed_by or None,
    }


def finding_detail(finding: Finding, history: list[FindingStatusChange]) -> dict[str, Any]:
    return {
        **finding_item(finding),
        "evidence": finding.evidence,
        "status_history": [{"from": change.from_status, "to": change.to_status, "note": change.note,
                            "changed_by": change.changed_by, "changed_at": iso(change.changed_at)}
                           for change in history],
    }


def page_body(page: Page[Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"items": items, "total": page.total, "page": page.page, "per_page": page.per_page, "pages": page.pages}


def occurrence_items(occurrences: list[FindingOccurrence]) -> list[dict[str, Any]]:
    return [finding_item(o.finding, detected_at=o.detected_at) for o in occurrences]


def finding_summary(finding: Finding) -> dict[str, Any]:
    """A finding in diffs and compliance reports: enough to recognise it and open it."""
    return {"id": str(finding.uuid), "title": finding.title, "severity": finding.severity,
            "status": finding.status, "tool": finding.tool, "affected_component": finding.affected_component,
            "cve_ids": list(finding.cve_ids)}
