"""SARIF 2.1.0 (OASIS) export of findings, streamed.

One run per tool, in the order the findings come (the caller orders them by tool, then rule). Within a run,
`results` are written first and `tool.driver.rules` after them (JSON member order carries no meaning), so
rules are collected while results stream and every result's `ruleIndex` points into them.

Mapping: ruleId = the finding's rule id; level = error for critical and high, warning for medium, note for
low and info; message = the title; a URL component is a physicalLocation artifact URI, a host:port a
`tcp://host:port` URI, anything else (package@version, a path, a "URL" without a valid scheme) a
logicalLocation; partialFingerprints carries Lantern's fingerprint so that code-scanning tools de-duplicate
across uploads as Lantern does; `properties` keeps severity, CVSS, status, CVE and CWE ids; rules carry
GitHub's `security-severity` and tags that are unique (the schema's `uniqueItems`).

URIs are written as RFC 3986 requires them (the schema's `uri` / `uri-reference` formats): each part
(authority, path, query, fragment) is percent-encoded with the characters that part allows, existing %XX
escapes are kept, and a `%` that starts none is written %25; so `?id[]=1`, a second `#` or a stray `%` from a
tool's URL no longer make the log invalid.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

from findings.exports.tabular import iso
from findings.models import Finding
from findings.risk import TYPICAL_CVSS

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
FINGERPRINT_KEY = "lanternFindingFingerprint/v1"
RESULTS_PER_CHUNK = 200

# RFC 3986: the parts of a URI (appendix B), a scheme, and what each part may hold besides unreserved
# characters (which quote() never encodes) and %XX escapes.
_URI_PARTS = re.compile(r"([^:/?#]+):(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?", re.DOTALL)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SUB_DELIMS = "!$&'()*+,;="
_SAFE_USERINFO = _SUB_DELIMS + ":%"
_SAFE_HOST = _SUB_DELIMS + "%"
_SAFE_PATH = _SUB_DELIMS + ":@/%"
_SAFE_QUERY = _SUB_DELIMS + ":@/?%"
_HOST_PORT = re.compile(r"(\[[^\]]*\]|[^:]*)(?::(\d*))?")


def _encode(part: str, safe: str) -> str:
    return quote(_STRAY_PERCENT.sub("%25", part), safe=safe)


def _host(host: str) -> str:
    if host.startswith("[") and host.endswith("]") and "%" not in host:
        try:
            ipaddress.IPv6Address(host[1:-1])
            return host
        except ValueError:
            pass
    return _encode(host, _SAFE_HOST)


def _authority(authority: str) -> str:
    userinfo, at, host_port = authority.rpartition("@")
    written = _encode(userinfo, _SAFE_USERINFO) + at
    parts = _HOST_PORT.fullmatch(host_port)
    if parts is None:  # a ":" that does not start a port: all of it is the host
        return written + _host(host_port)
    host, port = parts.groups()
    return written + _host(host) + ("" if port is None else ":" + port)


def _uri(value: str) -> str | None:
    """`value` as an RFC 3986 URI, or None when it has no valid scheme (it is not a URL)."""
    parts = _URI_PARTS.fullmatch(value)
    if parts is None or not _SCHEME.fullmatch(parts.group(1)):
        return None
    scheme, authority, path, query, fragment = parts.groups()
    uri = scheme + ":"
    if authority is not None:
        uri += "//" + _authority(authority)
    uri += _encode(path, _SAFE_PATH)
    if query is not None:
        uri += "?" + _encode(query, _SAFE_QUERY)
    if fragment is not None:
        uri += "#" + _encode(fragment, _SAFE_QUERY)
    return uri


def _locations(finding: Finding) -> list[dict[str, Any]]:
    component = finding.affected_component
    uri = _uri(component) if "://" in component else None
    if uri is not None:
        return [{"physicalLocation": {"artifactLocation": {"uri": uri}}}]
    if finding.host and finding.port is not None:
        host = _host(f"[{finding.host}]" if ":" in finding.host else finding.host)
        return [{"physicalLocation": {"artifactLocation": {"uri": f"tcp://{host}:{finding.port}"}}}]
    if component:
        return [{"logicalLocations": [{"fullyQualifiedName": component, "kind": "resource"}]}]
    return []


def _security_severity(finding: Finding) -> str:
    score = float(finding.cvss_score) if finding.cvss_score is not None else TYPICAL_CVSS[finding.severity]
    return f"{score:.1f}"


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id or finding.tool,
        "ruleIndex": rule_index,
        "level": LEVELS.get(finding.severity, "note"),
        "kind": "fail",
        "message": {"text": finding.title or finding.rule_id},
        "guid": str(finding.uuid),
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "severity": finding.severity,
            "cvssScore": None if finding.cvss_score is None else float(finding.cvss_score),
            "status": finding.status,
            "cveIds": list(finding.cve_ids),
            "cweIds": list(finding.cwe_ids),
            "affectedComponent": finding.affected_component,
            "firstSeen": iso(finding.first_seen),
            "lastSeen": iso(finding.last_seen),
            "occurrences": finding.occurrences,
        },
    }
    locations = _locations(finding)
    if locations:
        result["locations"] = locations
    if finding.status in ("resolved", "false_positive"):
        justification = "resolved" if finding.status == "resolved" else "false positive"
        result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": justification}]
    return result


def _rule(finding: Finding) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": finding.rule_id or finding.tool,
        "shortDescription": {"text": (finding.title or finding.rule_id)[:1000]},
        "defaultConfiguration": {"level": LEVELS.get(finding.severity, "note")},
        "properties": {"tags": list(dict.fromkeys(["security", *finding.cwe_ids])),
                       "security-severity": _security_severity(finding)},
    }
    if finding.description:
        rule["fullDescription"] = {"text": finding.description}
    if finding.remediation:
        rule["help"] = {"text": finding.remediation}
    web_references = [ref for ref in finding.references if ref.startswith(("https://", "http://"))]
    if web_references:
        rule["helpUri"] = _uri(web_references[0])
    return rule


def _run_end(tool: str, rules: list[dict[str, Any]]) -> str:
    driver = {"name": tool or "lantern", "organization": "Lantern", "rules": rules}
    return '], "tool": ' + json.dumps({"driver": driver}, ensure_ascii=False) + "}"


def sarif_chunks(findings: Iterable[Finding]) -> Iterator[str]:
    """The SARIF log as text chunks (see the module docstring)."""
    yield json.dumps({"$schema": SCHEMA_URI, "version": "2.1.0"})[:-1] + ', "runs": ['
    tool: str | None = None
    rules: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}
    parts: list[str] = []
    first_result = True
    for finding in findings:
        if finding.tool != tool:
            if tool is not None:
                parts.append(_run_end(tool, rules))
            parts.append(("," if tool is not None else "") + '{"results": [')
            tool, rules, rule_index, first_result = finding.tool, [], {}, True
        rule_id = finding.rule_id or finding.tool
        if rule_id not in rule_index:
            rule_index[rule_id] = len(rules)
            rules.append(_rule(finding))
        parts.append(("" if first_result else ",") + json.dumps(_result(finding, rule_index[rule_id]),
                                                                ensure_ascii=False))
        first_result = False
        if len(parts) >= RESULTS_PER_CHUNK:
            yield "".join(parts)
            parts = []
    if tool is not None:
        parts.append(_run_end(tool, rules))
    yield "".join(parts) + "]}"
