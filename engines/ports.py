"""Port specifications: "22,80,443", "1-1024", "1-65535". Parsed into ranges, rendered back canonically."""

from __future__ import annotations

import re

_PART = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")
MAX_PARTS = 1000


def parse_ports(spec: str) -> list[tuple[int, int]]:
    """Sorted, merged inclusive ranges. Raises ValueError with the reason."""
    if not spec or not spec.strip():
        raise ValueError("port list is empty")
    parts = [part.strip() for part in spec.split(",")]
    if len(parts) > MAX_PARTS:
        raise ValueError(f"more than {MAX_PARTS} port ranges")
    ranges: list[tuple[int, int]] = []
    for part in parts:
        match = _PART.match(part)
        if match is None:
            raise ValueError(f"'{part}' is not a port or a range such as 1-1024")
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if not (1 <= low <= 65535 and 1 <= high <= 65535) or low > high:
            raise ValueError(f"'{part}' is outside 1-65535 or reversed")
        ranges.append((low, high))
    ranges.sort()
    merged: list[tuple[int, int]] = [ranges[0]]
    for low, high in ranges[1:]:
        last_low, last_high = merged[-1]
        if low <= last_high + 1:
            merged[-1] = (last_low, max(last_high, high))
        else:
            merged.append((low, high))
    return merged


def subtract_ports(ranges: list[tuple[int, int]], excluded: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`ranges` without `excluded` (used to keep never-scan ports out of every command line)."""
    result: list[tuple[int, int]] = []
    for low, high in ranges:
        pieces = [(low, high)]
        for ex_low, ex_high in excluded:
            next_pieces = []
            for p_low, p_high in pieces:
                if ex_high < p_low or ex_low > p_high:
                    next_pieces.append((p_low, p_high))
                    continue
                if p_low < ex_low:
                    next_pieces.append((p_low, ex_low - 1))
                if p_high > ex_high:
                    next_pieces.append((ex_high + 1, p_high))
            pieces = next_pieces
        result.extend(pieces)
    return result


def format_ports(ranges: list[tuple[int, int]]) -> str:
    return ",".join(str(low) if low == high else f"{low}-{high}" for low, high in ranges)


def count_ports(ranges: list[tuple[int, int]]) -> int:
    return sum(high - low + 1 for low, high in ranges)


def check_ports(spec: str) -> None:
    parse_ports(spec)
