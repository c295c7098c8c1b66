"""Version ordering for CPE version ranges.

A version is split into runs of digits and runs of letters (separators . - _ + ~ and spaces split too):
"1.2.10" -> (1, 2, 10); "7.4p1" -> (7, 4, "p", 1); "1.0.2k" -> (1, 0, 2, "k"); "2.0.0-rc1" -> (2, 0, 0, "rc", 1).
Items are compared left to right: numbers numerically, words case-insensitively, a number above a word.
When one version runs out:
  * trailing zeros do not count ("1.2" == "1.2.0");
  * a pre-release word next (alpha, beta, rc, pre, dev, preview, snapshot, milestone; and a, b, c, m when a
    number follows them, as in "2.0b1") makes the longer one older ("1.0rc1" < "1.0");
  * anything else makes it newer ("1.0" < "1.0.1", "7.4" < "7.4p1", "1.0.2" < "1.0.2a" < "1.0.2k": a lone
    trailing letter is a patch level, as OpenSSL numbers them).
"""

from __future__ import annotations

import re
from functools import cmp_to_key

_TOKEN = re.compile(r"\d+|[a-z]+", re.IGNORECASE)
PRE_RELEASE = frozenset({"alpha", "beta", "rc", "pre", "preview", "dev", "snapshot", "milestone", "cr"})
# One-letter pre-release markers, read as such only when a number follows ("2.0b1", "5.0.0-M1").
_SHORT_PRE = {"a": "alpha", "b": "beta", "c": "rc", "m": "milestone"}

Token = int | str


def version_tokens(version: str) -> tuple[Token, ...]:
    """The comparable items of a version string (see the module docstring)."""
    raw = _TOKEN.findall(version)
    tokens: list[Token] = []
    for index, item in enumerate(raw):
        if item.isdigit():
            tokens.append(int(item))
            continue
        word = item.lower()
        followed_by_number = index + 1 < len(raw) and raw[index + 1].isdigit()
        tokens.append(_SHORT_PRE[word] if word in _SHORT_PRE and followed_by_number else word)
    return tuple(tokens)


def compare_versions(left: str, right: str) -> int:
    """-1, 0 or 1 as `left` is older than, equal to or newer than `right`."""
    a, b = version_tokens(left), version_tokens(right)
    for x, y in zip(a, b, strict=False):
        if x == y:
            continue
        if isinstance(x, int) and isinstance(y, int):
            return -1 if x < y else 1
        if isinstance(x, str) and isinstance(y, str):
            return _compare_words(x, y)
        return 1 if isinstance(x, int) else -1  # a number is newer than a word in the same place
    if len(a) == len(b):
        return 0
    longer, sign = (a, 1) if len(a) > len(b) else (b, -1)
    rest = longer[min(len(a), len(b)):]
    if all(item == 0 for item in rest):
        return 0
    first = next(item for item in rest if item != 0)
    if isinstance(first, str) and first in PRE_RELEASE:
        return -sign
    return sign


def _compare_words(x: str, y: str) -> int:
    """Pre-release words are older than any other word (rc < p); otherwise alphabetical."""
    x_pre, y_pre = x in PRE_RELEASE, y in PRE_RELEASE
    if x_pre != y_pre:
        return -1 if x_pre else 1
    return -1 if x < y else 1


version_key = cmp_to_key(compare_versions)


def in_range(version: str, *, start_including: str = "", start_excluding: str = "", end_including: str = "",
             end_excluding: str = "") -> bool:
    """True when `version` lies within the NVD cpeMatch bounds that are set (empty bounds are open)."""
    if start_including and compare_versions(version, start_including) < 0:
        return False
    if start_excluding and compare_versions(version, start_excluding) <= 0:
        return False
    if end_including and compare_versions(version, end_including) > 0:
        return False
    return not (end_excluding and compare_versions(version, end_excluding) >= 0)
