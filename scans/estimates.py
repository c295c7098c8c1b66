"""A running scan's estimated_completion, from measured step durations.

Every plan step that completes records how long it took under its key: the engine and its options without
the target (`step_key`), so "nmap, top 100 ports" and "nmap, all ports" are timed apart. The mean is
exponentially weighted (ALPHA), so a machine or network that gets slower shows within a few runs.

A running scan's remaining time is
- for the step that is running: its own measured rate when the engine reports a percentage
  (elapsed × (100 − p) / p), else its recorded mean minus the time it has run so far (never below 0);
- for every step still to come: its recorded mean.
A step never measured before counts as the mean of the steps this scan has finished so far. With nothing
measured at all the estimate is unknown (None) rather than invented. The caller caps the result at the
scan's own deadline.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from scans.models import StepTiming

ALPHA = 0.3  # weight of the newest run in the mean
MIN_PERCENT = 1.0  # below this, an engine's own percentage says too little to extrapolate from


def step_key(step: Mapping[str, Any]) -> str:
    """Engine plus everything that shapes the work except the target: same key, comparable duration."""
    shape = {"engine": step["engine"], "options": step.get("options") or {},
             "open_ports_only": bool(step.get("open_ports_only")), "internal": bool(step.get("internal"))}
    digest = hashlib.sha256(json.dumps(shape, sort_keys=True, default=str).encode()).hexdigest()
    return f"{step['engine'][:23]}:{digest[:40]}"


def step_timing_record(step: Mapping[str, Any], seconds: float) -> None:
    """Fold one completed run of `step` into its mean: one upsert, safe under concurrent workers."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO scans_steptiming (key, engine, mean_seconds, samples, updated_at)
            VALUES (%s, %s, %s, 1, %s)
            ON CONFLICT (key) DO UPDATE SET
                mean_seconds = scans_steptiming.mean_seconds * (1 - %s) + EXCLUDED.mean_seconds * %s,
                samples = scans_steptiming.samples + 1,
                updated_at = EXCLUDED.updated_at
            """,
            [step_key(step), step["engine"][:32], max(0.0, seconds), timezone.now(), ALPHA, ALPHA],
        )


def step_means(keys: Iterable[str]) -> dict[str, float]:
    """The recorded mean duration of each key that has one."""
    return dict(StepTiming.objects.filter(key__in=set(keys)).values_list("key", "mean_seconds"))


@dataclass(frozen=True, slots=True)
class RunningStep:
    key: str
    elapsed_s: float
    percent: float | None = None  # the engine's own progress report, if any


def remaining_seconds(*, running: RunningStep | None, upcoming: Sequence[str], means: Mapping[str, float],
                      finished_s: Sequence[float] = ()) -> float | None:
    """Seconds until the scan's last step ends, or None when nothing measured can say (module docstring)."""
    fallback = sum(finished_s) / len(finished_s) if finished_s else None
    total = 0.0
    if running is not None:
        if running.percent is not None and running.percent >= MIN_PERCENT:
            total += running.elapsed_s * (100 - min(running.percent, 100)) / running.percent
        else:
            expected = means.get(running.key, fallback)
            if expected is None:
                return None
            total += max(0.0, expected - running.elapsed_s)
    for key in upcoming:
        expected = means.get(key, fallback)
        if expected is None:
            return None
        total += expected
    return total
