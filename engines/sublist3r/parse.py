"""Parse Sublist3r's ``-o`` file into Lantern records.

Format handled: what ``sublist3r.write_file`` writes (Sublist3r 1.0): one subdomain per line, each followed by
``os.linesep``, sorted by ``subdomain_sorting_key``; no header, no comments. The file is written only when
something was found. One known artefact is handled: names joined by ``<BR>`` on one line (certificate-log
entries with several names, Sublist3r issues #210 and #243), which are split into their names.

Records: one ``AssetRecord(kind="subdomain", source="sublist3r")`` per distinct name, lower-cased and without
a trailing dot. Sublist3r reports no issues, so there is no severity mapping and no FindingRecord.

An empty file yields nothing. A line that is not a host name (an HTML fragment, another tool's output, a
binary file) raises ParseError naming the line, after the records of the lines before it were yielded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from engines.errors import ParseError
from engines.records import AssetRecord, Record, clip

SOURCE = "sublist3r"
MAX_NAME = 253

# Labels of letters, digits, '-' and '_' (DNS names such as _dmarc.example.com), not starting or ending with
# '-'; at least two labels; the last one not all digits (so that an IP address is not taken for a name).
_LABEL = r"(?!-)[a-z0-9_-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.(?!\d+$){_LABEL}")
_JOINED = re.compile(r"<br\s*/?>", re.IGNORECASE)


def parse(path: Path) -> Iterator[Record]:
    """Yield one subdomain asset per distinct host name in the file."""
    seen: set[str] = set()
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as exc:
                raise ParseError(f"{path.name}: line {number}: not UTF-8 text ({exc.reason})") from exc
            if not line:
                continue
            for candidate in _JOINED.split(line):
                name = normalise(candidate, path.name, number)
                if name not in seen:
                    seen.add(name)
                    yield AssetRecord(kind="subdomain", value=name, source=SOURCE)


def normalise(candidate: str, filename: str, number: int) -> str:
    """Lower-case, drop the trailing dot, and refuse anything that is not a host name."""
    name = candidate.strip().lower().rstrip(".")
    if len(name) > MAX_NAME or not _HOSTNAME.fullmatch(name):
        raise ParseError(f"{filename}: line {number}: not a host name: {clip(candidate.strip(), 80)!r}")
    return name
