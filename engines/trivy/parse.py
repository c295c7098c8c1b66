"""Parse trivy's JSON report into Lantern records.

Format handled: ``trivy image|fs|config|repo --format json`` (SchemaVersion 2: an object with ``Results[]``).
The legacy pre-0.20 report, a bare list of results, is accepted too because it has the same per-result shape.
Each result has a ``Target`` and any of:

* ``Vulnerabilities``: one finding per entry. rule_id and CVE from ``VulnerabilityID``; CVSS from the V3Score
  of ``CVSS.nvd``, else ``CVSS.redhat``, else the first other vendor that has one; location is
  ``PkgName@InstalledVersion in <PkgPath or Target>`` (PkgPath tells apart the many copies of one npm
  package); remediation from ``FixedVersion``.
* ``Misconfigurations``: one finding per entry whose Status is not PASS/EXCEPTION. rule_id is ``ID`` (falling
  back to ``AVDID``); location is the Target plus ``:StartLine-EndLine`` from CauseMetadata when present.
* ``Secrets``: one finding per entry, rule_id ``RuleID``, location ``Target:StartLine``. The evidence is the
  ``Match`` line, which trivy already masks with ``*``; it is masked again here (assigned values, quoted
  strings, long digit-bearing tokens) so that a report written without masking never puts a secret in the
  database. The ``Code`` lines are never copied.
* ``Licenses``: one finding per entry, rule_id ``license:<Name>``, location the package name or file path.

Severity mapping (trivy's own scale): CRITICAL -> critical, HIGH -> high, MEDIUM -> medium, LOW -> low,
UNKNOWN -> info. A finding whose severity is missing, or UNKNOWN while a CVSS score is known, falls back to
``Severity.from_cvss`` of that score.

An empty file or a report without results yields nothing; a file that is not JSON or not a trivy report raises
ParseError.
"""

from __future__ import annotations

import json
import pathlib
import re
from collections.abc import Iterator
from typing import Any

from engines.errors import ParseError
from engines.records import FindingRecord, Record, Severity, clip

ENGINE = "trivy"

SEVERITY_MAP: dict[str, Severity] = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
    "UNKNOWN": Severity.INFO,
}

_CVSS_PREFERENCE = ("nvd", "redhat")
_NON_FAILURES = frozenset({"PASS", "EXCEPTION"})
_MASK = "*****"
_ASSIGNED_VALUE = re.compile(r"(?P<lead>[=:]\s*[\"'`]?)(?P<value>[^\s\"'`*]{4,})")
_QUOTED = re.compile(r"(?P<quote>[\"'`])(?P<value>[^\"'`]{8,})(?P=quote)")
_LONG_TOKEN = re.compile(r"[A-Za-z0-9+/_\-]{12,}")


def parse(path: pathlib.Path) -> Iterator[Record]:
    """Yield one FindingRecord per vulnerability, failed misconfiguration, secret and licence."""
    raw = path.read_bytes()
    if not raw.strip():
        return
    for result in _results(_load(raw, path.name), path.name):
        yield from _result_findings(result)


def _load(raw: bytes, name: str) -> Any:
    """Decode the whole document; trivy writes one JSON value, so a decode error means a broken file."""
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParseError(f"{name}: not a trivy JSON report (invalid JSON: {exc})") from exc


def _results(document: Any, name: str) -> list[dict[str, Any]]:
    """Return the Results list, refusing documents that are JSON but not a trivy report."""
    if isinstance(document, list):
        results = document
    elif isinstance(document, dict) and ("SchemaVersion" in document or "Results" in document):
        results = document.get("Results") or []
    else:
        raise ParseError(f"{name}: not a trivy JSON report (no SchemaVersion/Results)")
    if not isinstance(results, list) or not all(isinstance(item, dict) for item in results):
        raise ParseError(f"{name}: trivy Results must be a list of objects")
    if any("Target" not in item for item in results):
        raise ParseError(f"{name}: a trivy result has no Target")
    return results


def _result_findings(result: dict[str, Any]) -> Iterator[FindingRecord]:
    """Findings of one Result (one target: an image layer's OS, a lock file, a config file...)."""
    target = str(result.get("Target") or "")
    for vuln in result.get("Vulnerabilities") or []:
        yield _vulnerability(vuln, target, result)
    for misconf in result.get("Misconfigurations") or []:
        if str(misconf.get("Status") or "").upper() not in _NON_FAILURES:
            yield _misconfiguration(misconf, target)
    for secret in result.get("Secrets") or []:
        yield _secret(secret, target)
    for licence in result.get("Licenses") or []:
        yield _licence(licence, target)


def _severity(value: Any, score: float | None = None) -> Severity:
    """Map trivy's severity word; fall back on the CVSS score when the word is missing or unknown."""
    mapped = SEVERITY_MAP.get(str(value or "").upper())
    if mapped is not None and not (mapped is Severity.INFO and score):
        return mapped
    return Severity.from_cvss(score)


def _cvss_score(cvss: Any) -> float | None:
    """Pick the V3 base score: NVD first, Red Hat second, then any other vendor trivy lists."""
    if not isinstance(cvss, dict):
        return None
    vendors = [*_CVSS_PREFERENCE, *sorted(set(cvss) - set(_CVSS_PREFERENCE))]
    for vendor in vendors:
        score = (cvss.get(vendor) or {}).get("V3Score")
        if isinstance(score, (int, float)) and score > 0:
            return float(score)
    return None


def _references(entry: dict[str, Any]) -> tuple[str, ...]:
    """PrimaryURL first, then References, without duplicates."""
    urls = [entry.get("PrimaryURL"), *(entry.get("References") or [])]
    return tuple(dict.fromkeys(str(url) for url in urls if url))


def _vulnerability(vuln: dict[str, Any], target: str, result: dict[str, Any]) -> FindingRecord:
    """A vulnerable package; the location names the package copy so that copies do not merge."""
    vuln_id = str(vuln.get("VulnerabilityID") or "")
    package = f"{vuln.get('PkgName') or ''}@{vuln.get('InstalledVersion') or ''}"
    where = str(vuln.get("PkgPath") or target)
    fixed = str(vuln.get("FixedVersion") or "")
    score = _cvss_score(vuln.get("CVSS"))
    return FindingRecord(
        engine=ENGINE,
        rule_id=vuln_id,
        title=clip(vuln.get("Title") or f"{vuln_id} in {package}", 500),
        severity=_severity(vuln.get("Severity"), score),
        location=f"{package} in {where}",
        cvss_score=score,
        cve_ids=(vuln_id.upper(),) if vuln_id.upper().startswith("CVE-") else (),
        cwe_ids=tuple(str(cwe) for cwe in vuln.get("CweIDs") or []),
        description=clip(vuln.get("Description")),
        remediation=f"Upgrade {vuln.get('PkgName')} to {fixed}." if fixed else "",
        references=_references(vuln),
        category="vulnerability",
        extra={
            "target": target,
            "class": str(result.get("Class") or ""),
            "type": str(result.get("Type") or ""),
            "package": str(vuln.get("PkgName") or ""),
            "installed_version": str(vuln.get("InstalledVersion") or ""),
            "fixed_version": fixed,
            "severity_source": str(vuln.get("SeveritySource") or ""),
        },
    )


def _line_range(cause: dict[str, Any]) -> str:
    """``:start`` or ``:start-end`` from CauseMetadata, empty when trivy gave no line."""
    start, end = cause.get("StartLine"), cause.get("EndLine")
    if not start:
        return ""
    return f":{start}" if not end or end == start else f":{start}-{end}"


def _cause_code(cause: dict[str, Any]) -> str:
    """The offending lines as ``number: content`` so the evidence shows what to change."""
    lines = ((cause.get("Code") or {}).get("Lines")) or []
    return "\n".join(
        f"{line.get('Number')}: {line.get('Content') or ''}" for line in lines if line.get("IsCause")
    )


def _misconfiguration(misconf: dict[str, Any], target: str) -> FindingRecord:
    """A failed configuration check on a Dockerfile, Terraform, Kubernetes manifest..."""
    cause = misconf.get("CauseMetadata") or {}
    rule_id = str(misconf.get("ID") or misconf.get("AVDID") or "")
    message = str(misconf.get("Message") or "")
    summary = str(misconf.get("Description") or "").strip()
    description = "\n\n".join(part for part in (summary, message) if part)
    evidence = "\n".join(part for part in (message, _cause_code(cause)) if part)
    return FindingRecord(
        engine=ENGINE,
        rule_id=rule_id,
        title=clip(misconf.get("Title") or rule_id, 500),
        severity=_severity(misconf.get("Severity")),
        location=f"{target}{_line_range(cause)}",
        description=clip(description),
        remediation=clip(misconf.get("Resolution")),
        evidence=clip(evidence),
        references=_references(misconf),
        category="misconfiguration",
        extra={
            "target": target,
            "avd_id": str(misconf.get("AVDID") or ""),
            "check_type": str(misconf.get("Type") or ""),
            "resource": str(cause.get("Resource") or ""),
        },
    )


def redact_secret(match: str) -> str:
    """Mask anything that may be the secret in a line, whether or not trivy masked it already.

    Three passes: the value after ``=``/``:``, the content of quoted strings, and long tokens that contain a
    digit (keys, tokens, base64). Over-masking is fine: the evidence only has to show where the secret is.
    """
    text = _ASSIGNED_VALUE.sub(lambda m: f"{m.group('lead')}{_MASK}", match)
    text = _QUOTED.sub(lambda m: m.group(0) if set(m.group("value")) == {"*"} else _quoted_mask(m), text)
    return _LONG_TOKEN.sub(lambda m: _MASK if any(ch.isdigit() for ch in m.group(0)) else m.group(0), text)


def _quoted_mask(match: re.Match[str]) -> str:
    quote = match.group("quote")
    return f"{quote}{_MASK}{quote}"


def _secret(secret: dict[str, Any], target: str) -> FindingRecord:
    """A secret found in a file; only the (re-)masked Match line is kept as evidence."""
    rule_id = str(secret.get("RuleID") or "")
    title = str(secret.get("Title") or rule_id)
    start = secret.get("StartLine")
    location = f"{target}:{start}" if start else target
    return FindingRecord(
        engine=ENGINE,
        rule_id=rule_id,
        title=clip(title, 500),
        severity=_severity(secret.get("Severity")),
        location=location,
        description=f"{title} ({secret.get('Category') or 'secret'}) found in {location}.",
        remediation="Remove the secret from the file and its history, then revoke and rotate it.",
        evidence=clip(redact_secret(str(secret.get("Match") or ""))),
        category="secret",
        extra={
            "target": target,
            "secret_category": str(secret.get("Category") or ""),
            "start_line": str(start or ""),
            "end_line": str(secret.get("EndLine") or ""),
        },
    )


def _licence(licence: dict[str, Any], target: str) -> FindingRecord:
    """A licence trivy classified (forbidden, restricted...) on a package or a file."""
    name = str(licence.get("Name") or "unknown")
    subject = str(licence.get("PkgName") or licence.get("FilePath") or target)
    category = str(licence.get("Category") or "")
    return FindingRecord(
        engine=ENGINE,
        rule_id=f"license:{name}",
        title=clip(f"License {name} ({category})" if category else f"License {name}", 500),
        severity=_severity(licence.get("Severity")),
        location=f"{subject} in {target}" if subject != target else target,
        description=f"{subject} is licensed under {name}, which trivy classifies as {category or 'unknown'}.",
        references=(str(licence["Link"]),) if licence.get("Link") else (),
        category="license",
        extra={"target": target, "confidence": str(licence.get("Confidence") or "")},
    )
