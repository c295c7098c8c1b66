"""Tests for the masscan parser (-oJ, -oL, -oG, -oX) against real -oJ output and small synthetic files."""

from __future__ import annotations

import pathlib

import pytest

from engines.errors import ParseError
from engines.masscan.parse import parse
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


def _services(records: list[Record]) -> list[tuple[str, int, str, str]]:
    return [
        (record.host, record.port, record.protocol, record.state)
        for record in records
        if isinstance(record, ServiceRecord)
    ]


def _write(tmp_path: pathlib.Path, name: str, text: str) -> pathlib.Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_four_records_for_one_ip_give_one_host_and_four_services() -> None:
    records = list(parse(FIXTURES / "dd_masscan_many_vuln.json"))
    assert _counts(records) == {"hosts": 1, "services": 4, "findings": 0, "assets": 0}
    assert records[0] == HostRecord(ip="172.29.0.3")
    assert _services(records) == [
        ("172.29.0.3", 8080, "tcp", "open"),
        ("172.29.0.3", 3000, "tcp", "open"),
        ("172.29.0.3", 8443, "tcp", "open"),
        ("172.29.0.3", 80, "tcp", "open"),
    ]


def test_empty_json_fixture_yields_nothing() -> None:
    records = list(parse(FIXTURES / "dd_masscan_no_vuln.json"))
    assert _counts(records) == {"hosts": 0, "services": 0, "findings": 0, "assets": 0}


def test_single_record_file() -> None:
    records = list(parse(FIXTURES / "dd_masscan_one_vuln.json"))
    assert _counts(records) == {"hosts": 1, "services": 1, "findings": 0, "assets": 0}
    assert records == [HostRecord(ip="172.29.0.3"), ServiceRecord(host="172.29.0.3", port=80, protocol="tcp")]


def test_two_ips_with_interleaved_ports() -> None:
    records = list(parse(FIXTURES / "reconpipeline_new-test_masscan.json"))
    assert _counts(records) == {"hosts": 2, "services": 4, "findings": 0, "assets": 0}
    hosts = [record.ip for record in records if isinstance(record, HostRecord)]
    assert hosts == ["184.72.14.217", "52.8.166.143"]
    assert _services(records) == [
        ("184.72.14.217", 443, "tcp", "open"),
        ("52.8.166.143", 80, "tcp", "open"),
        ("52.8.166.143", 443, "tcp", "open"),
        ("184.72.14.217", 80, "tcp", "open"),
    ]


def test_old_json_with_trailing_commas_finished_marker_and_banner(tmp_path: pathlib.Path) -> None:
    path = _write(
        tmp_path,
        "old.json",
        "[\n"
        '{ "ip": "10.0.0.5", "timestamp": "1", "ports": [ {"port": 80, "proto": "tcp", "status": "open", '
        '"reason": "syn-ack", "ttl": 64} ] },\n'
        '{ "ip": "10.0.0.5", "timestamp": "2", "ports": [ {"port": 80, "proto": "tcp", "service": '
        '{"name": "http", "banner": "HTTP/1.0 200 OK\\r\\nServer: nginx"} } ] },\n'
        '{ "ip": "10.0.0.5", "timestamp": "3", "ports": [ {"port": 80, "proto": "tcp", "service": '
        '{"name": "title", "banner": "Welcome"} } ] },\n'
        "{finished: 1}\n"
        "]\n",
    )
    records = list(parse(path))
    assert _counts(records) == {"hosts": 1, "services": 1, "findings": 0, "assets": 0}
    service = records[1]
    assert isinstance(service, ServiceRecord)
    assert (service.port, service.state, service.service) == (80, "open", "http")
    assert service.banner == "http: HTTP/1.0 200 OK\r\nServer: nginx\ntitle: Welcome"


def test_list_format_with_banner_and_udp(tmp_path: pathlib.Path) -> None:
    path = _write(
        tmp_path,
        "scan.lst",
        "#masscan\n"
        "open tcp 22 192.0.2.9 1600000000\n"
        "banner tcp 22 192.0.2.9 1600000001 ssh SSH-2.0-OpenSSH_8.9 Host: not-grepable\n"
        "open udp 53 192.0.2.10 1600000002\n"
        "closed tcp 23 192.0.2.9 1600000003\n"
        "# end\n",
    )
    records = list(parse(path))
    assert _counts(records) == {"hosts": 2, "services": 3, "findings": 0, "assets": 0}
    assert _services(records) == [
        ("192.0.2.9", 22, "tcp", "open"),
        ("192.0.2.10", 53, "udp", "open"),
        ("192.0.2.9", 23, "tcp", "closed"),
    ]
    ssh = records[2]
    assert isinstance(ssh, ServiceRecord)
    assert (ssh.service, ssh.banner) == ("ssh", "ssh: SSH-2.0-OpenSSH_8.9 Host: not-grepable")


def test_grepable_format(tmp_path: pathlib.Path) -> None:
    path = _write(
        tmp_path,
        "scan.gnmap",
        "# Masscan 1.0.6 scan initiated Sun Apr  5 14:57:31 2020\n"
        "# Ports scanned: TCP(2;80-80,443-443) UDP(0;) SCTP(0;) PROTOCOLS(0;)\n"
        "Timestamp: 1586185051\tHost: 184.72.14.217 ()\tPorts: 443/open/tcp//https//\n"
        "Timestamp: 1586185052\tHost: 184.72.14.217 ()\tPort: 443\tService: X509\tBanner: MIIFake\n"
        "# Masscan done at Sun Apr  5 14:58:00 2020\n",
    )
    records = list(parse(path))
    assert _counts(records) == {"hosts": 1, "services": 1, "findings": 0, "assets": 0}
    assert records[1] == ServiceRecord(host="184.72.14.217", port=443, protocol="tcp", banner="X509: MIIFake")


def test_xml_format(tmp_path: pathlib.Path) -> None:
    path = _write(
        tmp_path,
        "scan.xml",
        '<?xml version="1.0"?>\n<!-- masscan v1.0 scan -->\n'
        '<nmaprun scanner="masscan" start="1600000000" version="1.0-BETA" xmloutputversion="1.03">\n'
        '<scaninfo type="syn" protocol="tcp" />\n'
        '<host endtime="1"><address addr="10.0.0.1" addrtype="ipv4"/><ports><port protocol="tcp" portid="22">'
        '<state state="open" reason="syn-ack" reason_ttl="64"/></port></ports></host>\n'
        '<host endtime="2"><address addr="10.0.0.1" addrtype="ipv4"/><ports><port protocol="tcp" portid="22">'
        '<state state="open" reason="response" reason_ttl="64"/><service name="ssh" banner="SSH-2.0-x"/>'
        "</port></ports></host>\n"
        '<runstats><finished time="3" elapsed="2"/><hosts up="1" down="0" total="1"/></runstats>\n'
        "</nmaprun>\n",
    )
    assert list(parse(path)) == [
        HostRecord(ip="10.0.0.1"),
        ServiceRecord(host="10.0.0.1", port=22, protocol="tcp", service="ssh", banner="ssh: SSH-2.0-x"),
    ]


def test_empty_list_yields_nothing(tmp_path: pathlib.Path) -> None:
    assert list(parse(_write(tmp_path, "empty.json", "[\n]\n"))) == []


def test_zero_byte_file_yields_nothing(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "zero.json"
    path.write_bytes(b"")
    assert list(parse(path)) == []


def test_broken_record_raises_parse_error_with_its_line(tmp_path: pathlib.Path) -> None:
    path = _write(
        tmp_path,
        "broken.json",
        '[\n{ "ip": "10.0.0.1", "ports": [ {"port": 80, "proto": "tcp", "status": "open"} ] }\n'
        ',\n{ "ip": "10.0.0.2", "po\n',
    )
    with pytest.raises(ParseError, match="line 4"):
        list(parse(path))


def test_record_without_ports_raises_parse_error(tmp_path: pathlib.Path) -> None:
    path = _write(tmp_path, "noports.json", '[\n{ "ip": "10.0.0.1", "timestamp": "1" }\n]\n')
    with pytest.raises(ParseError, match="needs 'ip' and a 'ports' list"):
        list(parse(path))


def test_hostname_instead_of_ip_raises_parse_error(tmp_path: pathlib.Path) -> None:
    path = _write(tmp_path, "name.json", '[{"ip": "example.org", "ports": [{"port": 80, "proto": "tcp"}]}]')
    with pytest.raises(ParseError, match="not an IP address"):
        list(parse(path))


def test_unknown_list_line_raises_parse_error(tmp_path: pathlib.Path) -> None:
    path = _write(tmp_path, "scan.lst", "#masscan\nfiltered tcp 80 10.0.0.1 1600000000\n")
    with pytest.raises(ParseError, match="line 2: not a masscan list line"):
        list(parse(path))


def test_nmap_xml_is_refused(tmp_path: pathlib.Path) -> None:
    path = _write(tmp_path, "nmap.xml", '<?xml version="1.0"?><nmaprun scanner="nmap"><host/></nmaprun>')
    with pytest.raises(ParseError, match="expected <nmaprun scanner='masscan'>"):
        list(parse(path))


def test_truncated_xml_raises_parse_error(tmp_path: pathlib.Path) -> None:
    path = _write(tmp_path, "cut.xml", '<?xml version="1.0"?><nmaprun scanner="masscan"><host>')
    with pytest.raises(ParseError, match="not masscan XML"):
        list(parse(path))
