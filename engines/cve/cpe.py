"""CPE names in one shape, whichever binding they came in.

* CPE 2.3 formatted string: ``cpe:2.3:a:f5:nginx:1.16.1:*:*:*:*:*:*:*`` (backslash escapes, ``*`` = ANY,
  ``-`` = NA); NVD's cpeMatch criteria use this binding.
* CPE 2.2 URI: ``cpe:/a:igor_sysoev:nginx:1.16.1`` (percent-encoding, empty or missing = ANY, ``-`` = NA,
  ``~``-packed edition); nmap -sV writes this binding.

Values are lower-cased (CPE matching is case-insensitive). Malformed names raise CpeError.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from urllib.parse import unquote

ANY = "*"
NA = "-"
FIELDS = ("part", "vendor", "product", "version", "update", "edition", "language", "sw_edition", "target_sw",
          "target_hw", "other")
_UNESCAPED_COLON = re.compile(r"(?<!\\):")
_ESCAPE = re.compile(r"\\(.)")


class CpeError(ValueError):
    """The string is not a CPE 2.3 formatted string nor a CPE 2.2 URI."""


@dataclass(frozen=True, slots=True)
class Cpe:
    part: str
    vendor: str
    product: str
    version: str = ANY
    update: str = ANY
    edition: str = ANY
    language: str = ANY
    sw_edition: str = ANY
    target_sw: str = ANY
    target_hw: str = ANY
    other: str = ANY

    @property
    def key(self) -> tuple[str, str, str]:
        """(part, vendor, product): what the vulnerability database is indexed on."""
        return self.part, self.vendor, self.product

    def formatted(self) -> str:
        """The CPE 2.3 formatted string of this name."""
        return "cpe:2.3:" + ":".join(_escape(getattr(self, name)) for name in FIELDS)


def parse_cpe(value: str) -> Cpe:
    """A Cpe from either binding; raises CpeError."""
    text = value.strip()
    if text.lower().startswith("cpe:2.3:"):
        return _parse_formatted(text)
    if text.lower().startswith("cpe:/"):
        return _parse_uri(text)
    raise CpeError(f"not a CPE name: {value!r}")


def _parse_formatted(text: str) -> Cpe:
    parts = _UNESCAPED_COLON.split(text)[2:]
    if len(parts) != len(FIELDS):
        raise CpeError(f"a CPE 2.3 name has {len(FIELDS)} components after 'cpe:2.3:': {text!r}")
    values = [_unescape(part) for part in parts]
    return _build(values, text)


def _parse_uri(text: str) -> Cpe:
    parts = text[len("cpe:/"):].split(":")
    if len(parts) > 7:
        raise CpeError(f"a CPE 2.2 URI has at most 7 components: {text!r}")
    values = [_uri_value(part) for part in parts] + [ANY] * (7 - len(parts))
    edition = parts[5] if len(parts) > 5 else ""
    if edition.startswith("~"):
        packed = (edition.split("~") + [""] * 6)[1:6]  # ~edition~sw_edition~target_sw~target_hw~other
        values[5] = _uri_value(packed[0])
        values += [_uri_value(item) for item in packed[1:]]
    else:
        values += [ANY] * 4
    return _build(values, text)


def _build(values: list[str], text: str) -> Cpe:
    cpe = Cpe(*values)
    if cpe.part not in ("a", "o", "h"):
        raise CpeError(f"CPE part must be a, o or h: {text!r}")
    if cpe.vendor in (ANY, NA, "") or cpe.product in (ANY, NA, ""):
        raise CpeError(f"CPE name without vendor or product: {text!r}")
    return cpe


def _unescape(value: str) -> str:
    if value in (ANY, NA):
        return value
    return _ESCAPE.sub(r"\1", value).lower()


def _uri_value(value: str) -> str:
    if value == "":
        return ANY
    if value == NA:
        return NA
    return unquote(value).lower()


def _escape(value: str) -> str:
    if value in (ANY, NA):
        return value
    return re.sub(r"([^a-z0-9_.\-])", r"\\\1", value) if value else ANY


def component_matches(criterion: str, value: str) -> bool:
    """One non-version attribute: ANY in the criterion matches everything; an attribute we do not know (ANY
    in the detected name) is given the benefit of the doubt; NA matches only NA; otherwise equality, with
    the criterion's unescaped * and ? as wildcards."""
    if criterion == ANY or value == ANY:
        return True
    if criterion == NA or value == NA:
        return criterion == value
    if "*" in criterion or "?" in criterion:
        return fnmatch.fnmatchcase(value, criterion)
    return criterion == value
