"""Risk score (seed 002's `riskScore`): one number from 0 to 100 for a scan or a target. Pure: no Django.

Formula (version 1)
-------------------
Only findings a user still has to act on count: status open or in_progress (resolved and false_positive
do not). Info findings weigh nothing.

1. Each counted finding weighs w = 10 * (c / 10) ** 2, where c is its CVSS score, or when it has none the
   typical score of its severity (critical 9.5, high 7.5, medium 5.0, low 2.0). Squaring makes one 9.8 weigh
   as much as about 24 findings at 2.0.
2. Exposure multiplies the sum: E = 1 + 0.25 if the target is internet-facing (a global IP address)
   + 0.05 per open port, counting at most 20 ports (so E is between 1.0 and 2.25).
   S = E * sum(w).
3. The worst severity picks a band [base, base + width): critical [70, 100), high [45, 70),
   medium [20, 45), low [5, 20); with no counted finding, [0, 5) and S = 10 * (E - 1) (exposure alone).
4. score = base + width * (1 - exp(-S / 40)), rounded to one decimal and capped at base + width - 0.1.

Consequences the tests pin down: one critical outranks any number of highs, mediums or lows (bands never
overlap); within a band, more findings, higher CVSS scores or more exposure raise the score, with
diminishing returns; fixing or dismissing findings lowers it. `level` names the band the score falls in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

FORMULA_VERSION = 1
COUNTED_STATUSES = ("open", "in_progress")
TYPICAL_CVSS = {"critical": 9.5, "high": 7.5, "medium": 5.0, "low": 2.0, "info": 0.0}
BANDS: dict[str, tuple[float, float]] = {
    "critical": (70.0, 30.0),
    "high": (45.0, 25.0),
    "medium": (20.0, 25.0),
    "low": (5.0, 15.0),
    "none": (0.0, 5.0),
}
SATURATION = 40.0
MAX_COUNTED_PORTS = 20
_ORDER = ("critical", "high", "medium", "low")


@dataclass(frozen=True, slots=True)
class Exposure:
    open_ports: int = 0
    internet_facing: bool = False

    @property
    def factor(self) -> float:
        return 1.0 + (0.25 if self.internet_facing else 0.0) + 0.05 * min(self.open_ports, MAX_COUNTED_PORTS)


@dataclass(frozen=True, slots=True)
class RiskScore:
    score: float
    level: str  # critical | high | medium | low | none
    counts: dict[str, int] = field(default_factory=dict)
    exposure: Exposure = Exposure()

    def as_dict(self) -> dict[str, Any]:
        return {"score": self.score, "level": self.level, "formula_version": FORMULA_VERSION,
                "counts": self.counts, "open_ports": self.exposure.open_ports,
                "internet_facing": self.exposure.internet_facing}


def finding_weight(severity: str, cvss: float | None) -> float:
    """w = 10 * (c / 10) ** 2 (step 1 of the formula); 0 for info."""
    if severity not in _ORDER:
        return 0.0
    score = TYPICAL_CVSS[severity] if cvss is None else min(max(float(cvss), 0.0), 10.0)
    return 10.0 * (score / 10.0) ** 2


def risk_score(groups: Iterable[tuple[str, float | None, int]], exposure: Exposure = Exposure()) -> RiskScore:
    """The score of counted findings given as (severity, cvss or None, how many) groups."""
    counts = {severity: 0 for severity in (*_ORDER, "info")}
    total = 0.0
    for severity, cvss, count in groups:
        if severity not in counts or count <= 0:
            continue
        counts[severity] += count
        total += count * finding_weight(severity, cvss)
    worst = next((severity for severity in _ORDER if counts[severity]), "none")
    base, width = BANDS[worst]
    strength = exposure.factor * total if worst != "none" else 10.0 * (exposure.factor - 1.0)
    # Capped below the next band so that rounding can never lift a score into it.
    score = min(round(base + width * (1.0 - math.exp(-strength / SATURATION)), 1), base + width - 0.1)
    return RiskScore(score=score, level=_level(score), counts=counts, exposure=exposure)


def _level(score: float) -> str:
    for severity in _ORDER:
        if score >= BANDS[severity][0]:
            return severity
    return "none"
