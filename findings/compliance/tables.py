"""Loading the compliance data tables (read once per process)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True, slots=True)
class Control:
    id: str
    title: str
    engines: frozenset[str]
    fails_on_severity: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceRule:
    id: str
    title: str
    services: frozenset[str]
    ports: frozenset[int]
    controls: frozenset[str]


@dataclass(frozen=True, slots=True)
class Framework:
    slug: str
    name: str
    controls: tuple[Control, ...]
    by_cwe: dict[str, frozenset[str]]
    by_category: dict[str, frozenset[str]]
    service_rules: tuple[ServiceRule, ...]


def _mapping(filename: str, key: str, framework: str, known: set[str]) -> dict[str, frozenset[str]]:
    mapping: dict[str, frozenset[str]] = {}
    with (DATA / filename).open(newline="") as handle:
        for row in csv.DictReader(handle):
            controls = frozenset(row[framework].split())
            unknown = controls - known
            if unknown:
                raise ValueError(f"{filename}: {row[key]} names unknown {framework} controls {sorted(unknown)}")
            mapping[row[key].strip().upper() if key == "cwe" else row[key].strip()] = controls
    return mapping


@cache
def framework(slug: str) -> Framework:
    """The framework `slug` (soc2 or pci-dss) with its controls and mappings; KeyError for another slug."""
    spec = json.loads((DATA / "controls.json").read_text())[slug]
    controls = tuple(Control(id=c["id"], title=c["title"], engines=frozenset(c["engines"]),
                             fails_on_severity=c.get("fails_on_severity")) for c in spec["controls"])
    known = {control.id for control in controls}
    rules = json.loads((DATA / "service_rules.json").read_text())["rules"]
    service_rules = tuple(ServiceRule(id=r["id"], title=r["title"], services=frozenset(r["services"]),
                                      ports=frozenset(r["ports"]), controls=frozenset(r.get(slug, [])))
                          for r in rules)
    for rule in service_rules:
        if rule.controls - known:
            raise ValueError(f"service_rules.json: {rule.id} names unknown {slug} controls")
    return Framework(slug=slug, name=spec["name"], controls=controls,
                     by_cwe=_mapping("cwe_controls.csv", "cwe", slug, known),
                     by_category=_mapping("category_controls.csv", "category", slug, known),
                     service_rules=service_rules)
