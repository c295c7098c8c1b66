"""The Sublist3r -o parser on a file Sublist3r's own write_file made, and on junk."""

from __future__ import annotations

from pathlib import Path

import pytest

from engines.errors import ParseError
from engines.records import AssetRecord
from engines.sublist3r.parse import parse

FIXTURE = Path(__file__).parent / "fixtures" / "example.com-sublist3r.txt"


def values(path: Path) -> list[str]:
    records = list(parse(path))
    assert all(isinstance(r, AssetRecord) for r in records)
    assert {(r.kind, r.source) for r in records} <= {("subdomain", "sublist3r")}
    return [record.value for record in records]


def test_real_format_file_yields_each_distinct_subdomain_in_file_order() -> None:
    assert values(FIXTURE) == [
        "www.example.com", "api.example.com", "www.api.example.com", "dev.api.example.com",
        "autodiscover.example.com", "blog.example.com", "cdn.example.com", "static.cdn.example.com",
        "preview.example.com", "m.example.com", "mail.example.com", "shop.example.com", "vpn.example.com",
    ]


def test_names_are_normalised_and_deduplicated(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_bytes(b"WWW.Example.COM.\r\n\r\nwww.example.com\n_dmarc.example.com\nxn--bcher-kva.example.com")
    assert values(path) == ["www.example.com", "_dmarc.example.com", "xn--bcher-kva.example.com"]


def test_br_joined_names_are_split(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("a.example.com<BR>b.example.com<br/>c.example.com\n")
    assert values(path) == ["a.example.com", "b.example.com", "c.example.com"]


def test_empty_file_yields_nothing(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("\n\n")
    assert list(parse(path)) == []


@pytest.mark.parametrize("junk", [
    "<html><body>Too many requests</body></html>",
    "[-] Enumerating subdomains now for example.com",
    "example.com, LLC",
    "192.0.2.10",
    "-example.com",
    "exa mple.com",
    "localhost",
    "*.example.com",
    "a" * 64 + ".example.com",
    '{"ip": "192.0.2.1"}',
])
def test_lines_that_are_not_host_names_raise_parse_error_naming_the_line(tmp_path: Path, junk: str) -> None:
    path = tmp_path / "out.txt"
    path.write_text(f"ok.example.com\n{junk}\n")
    records = parse(path)
    assert next(records) == AssetRecord(kind="subdomain", value="ok.example.com", source="sublist3r")
    with pytest.raises(ParseError, match="line 2: not a host name"):
        next(records)


def test_binary_file_raises_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    with pytest.raises(ParseError, match="line 1"):
        list(parse(path))


def test_overlong_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text(".".join(["a" * 60] * 4) + ".example.com\n")
    with pytest.raises(ParseError, match="not a host name"):
        list(parse(path))
