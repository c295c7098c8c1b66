"""Tests for theHarvester JSON/XML parser against real theHarvester output and small broken files."""

from __future__ import annotations

import pathlib

import pytest

from engines.errors import ParseError
from engines.harvester.parse import parse, split_host
from engines.records import AssetRecord, FindingRecord, HostRecord, Record, ServiceRecord

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def _counts(records: list[Record]) -> dict[str, int]:
    """How many records of each kind; every fixture test asserts all four."""
    return {
        "hosts": sum(isinstance(record, HostRecord) for record in records),
        "services": sum(isinstance(record, ServiceRecord) for record in records),
        "findings": sum(isinstance(record, FindingRecord) for record in records),
        "assets": sum(isinstance(record, AssetRecord) for record in records),
    }


def test_json_without_results_yields_nothing() -> None:
    records = list(parse(FIXTURES / "voraguard_scanme.nmap.json"))
    assert _counts(records) == {"hosts": 0, "services": 0, "findings": 0, "assets": 0}


def test_xml_without_results_yields_nothing() -> None:
    records = list(parse(FIXTURES / "voraguard_scanme.nmap.xml"))
    assert _counts(records) == {"hosts": 0, "services": 0, "findings": 0, "assets": 0}


def test_bare_hostnames_become_subdomain_assets_without_hosts() -> None:
    records = list(parse(FIXTURES / "voraguard_techbyheartacademy.json"))
    assert _counts(records) == {"hosts": 0, "services": 0, "findings": 0, "assets": 5}
    assert records == [
        AssetRecord(kind="subdomain", value=f"{name}.techbyheartacademy.com", source="harvester")
        for name in ("join", "placements", "register", "scholarships", "webinar")
    ]


def test_json_host_with_ip_becomes_subdomain_and_host() -> None:
    records = list(parse(FIXTURES / "voraguard_thekamababa.json"))
    assert _counts(records) == {"hosts": 1, "services": 0, "findings": 0, "assets": 1}
    assert records == [
        AssetRecord(kind="subdomain", value="cdn.thekamababa.com", source="harvester"),
        HostRecord(ip="104.26.4.36", hostname="cdn.thekamababa.com"),
    ]


def test_xml_host_with_ip_child_matches_the_json_output() -> None:
    records = list(parse(FIXTURES / "voraguard_thekamababa.xml"))
    assert _counts(records) == {"hosts": 1, "services": 0, "findings": 0, "assets": 1}
    assert records == list(parse(FIXTURES / "voraguard_thekamababa.json"))


def test_emails_ips_and_urls_become_assets_once_each(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "full.json"
    path.write_text(
        '{"cmd": "-d example.org", "hosts": ["a.example.org:192.0.2.1, 192.0.2.2", "a.example.org", '
        '"B.example.org:empty"], "emails": ["Admin@example.org", "admin@example.org"], '
        '"ips": ["192.0.2.1", "not-an-ip"], "interesting_urls": ["https://a.example.org/login"]}'
    )
    assert list(parse(path)) == [
        AssetRecord(kind="subdomain", value="a.example.org", source="harvester"),
        HostRecord(ip="192.0.2.1", hostname="a.example.org"),
        HostRecord(ip="192.0.2.2", hostname="a.example.org"),
        AssetRecord(kind="subdomain", value="b.example.org", source="harvester"),
        AssetRecord(kind="email", value="admin@example.org", source="harvester"),
        AssetRecord(kind="ip", value="192.0.2.1", source="harvester"),
        AssetRecord(kind="url", value="https://a.example.org/login", source="harvester"),
    ]


def test_xml_bare_hosts_and_emails(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bare.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><theHarvester><cmd>-d example.org</cmd>'
        "<email>ops@example.org</email><host>www.example.org</host>"
        "<host>mail.example.org:2001:db8::25</host></theHarvester>"
    )
    assert list(parse(path)) == [
        AssetRecord(kind="subdomain", value="www.example.org", source="harvester"),
        AssetRecord(kind="subdomain", value="mail.example.org", source="harvester"),
        HostRecord(ip="2001:db8::25", hostname="mail.example.org"),
        AssetRecord(kind="email", value="ops@example.org", source="harvester"),
    ]


def test_split_host_keeps_ipv6_after_the_first_colon() -> None:
    assert split_host("v6.example.org:2001:db8::1") == ("v6.example.org", ("2001:db8::1",))


def test_empty_file_yields_nothing(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    assert list(parse(path)) == []


def test_broken_json_raises_parse_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"hosts": ["a.example.org"')
    with pytest.raises(ParseError, match="invalid JSON"):
        list(parse(path))


def test_json_of_another_tool_raises_parse_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"SchemaVersion": 2, "Results": []}')
    with pytest.raises(ParseError, match="not theHarvester JSON"):
        list(parse(path))


def test_hosts_that_are_not_strings_raise_parse_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "hosts.json"
    path.write_text('{"cmd": "-d x", "hosts": [{"name": "a"}]}')
    with pytest.raises(ParseError, match="'hosts' must be a list of strings"):
        list(parse(path))


def test_xml_with_other_root_raises_parse_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "nmap.xml"
    path.write_text('<?xml version="1.0"?><nmaprun scanner="nmap"></nmaprun>')
    with pytest.raises(ParseError, match="expected <theHarvester>"):
        list(parse(path))


def test_malformed_xml_raises_parse_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "cut.xml"
    path.write_text("<theHarvester><host><ip>1.2.3.4</ip>")
    with pytest.raises(ParseError, match="not theHarvester XML"):
        list(parse(path))


def test_xml_entity_expansion_is_refused(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        "<theHarvester><host>&b;</host></theHarvester>"
    )
    with pytest.raises(ParseError, match="not theHarvester XML"):
        list(parse(path))


def test_plain_text_raises_parse_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "sublist3r.txt"
    path.write_text("www.example.org\nmail.example.org\n")
    with pytest.raises(ParseError, match="not theHarvester output"):
        list(parse(path))
