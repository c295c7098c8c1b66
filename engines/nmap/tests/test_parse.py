"""nmap XML parser on every real fixture: counts and spot-checked values."""

from pathlib import Path

import pytest

from engines.errors import ParseError
from engines.nmap.parse import parse
from engines.records import CertificateRecord, HostRecord, ServiceRecord

FIXTURES = Path(__file__).parent / "fixtures"


def records(name):
    return list(parse(FIXTURES / name))


def kinds(items):
    return (sum(isinstance(r, HostRecord) for r in items), sum(isinstance(r, ServiceRecord) for r in items),
            sum(isinstance(r, CertificateRecord) for r in items))


@pytest.mark.parametrize("name, expected", [
    ("scb_localhost.xml", (1, 4, 0)),
    ("scb_no-host.xml", (0, 0, 0)),
    ("dd_issue12411.xml", (2, 7, 0)),
    ("reconpipeline_staging.bitdiscovery.com-tcp.xml", (1, 2, 1)),
    ("dashlord_ecoresponsable_nmapvuln.xml", (1, 2, 0)),
])
def test_counts_per_fixture(name, expected):
    assert kinds(records(name)) == expected


def test_localhost_ports_and_services():
    services = [r for r in records("scb_localhost.xml") if isinstance(r, ServiceRecord)]
    assert [(s.port, s.state, s.service) for s in services] == [
        (53, "open", "domain"), (8021, "open", "ftp-proxy"), (8080, "open", "http-proxy"),
        (9200, "open", "wap-wsp")]
    host = records("scb_localhost.xml")[0]
    assert host == HostRecord(ip="127.0.0.1", hostname="localhost")


def test_filtered_ports_keep_their_state_and_hosts_their_names():
    items = records("dd_issue12411.xml")
    services = [r for r in items if isinstance(r, ServiceRecord)]
    assert [(s.host, s.port, s.state) for s in services if s.state != "open"] == [
        ("54.239.28.85", 135, "filtered"), ("54.239.28.85", 139, "filtered"), ("54.239.28.85", 445, "filtered")]
    assert [h.hostname for h in items if isinstance(h, HostRecord)] == ["google.com", "amazon.com"]


def test_version_detection_and_ssl_cert_script():
    items = records("reconpipeline_staging.bitdiscovery.com-tcp.xml")
    https = next(r for r in items if isinstance(r, ServiceRecord) and r.port == 443)
    assert (https.service, https.product, https.version) == ("https", "nginx", "1.16.1")
    assert https.cpes == ("cpe:/a:igor_sysoev:nginx:1.16.1",)
    certificate = next(r for r in items if isinstance(r, CertificateRecord))
    assert (certificate.port, certificate.subject) == (443, "CN=bitdiscovery.com")
    assert certificate.issuer == "CN=Amazon,OU=Server CA 1B,O=Amazon,C=US"
    assert certificate.sans == ("bitdiscovery.com", "*.bitdiscovery.com")
    assert certificate.not_after.isoformat() == "2020-08-20T12:00:00+00:00"
    assert (certificate.key_type, certificate.key_bits) == ("rsa", 2048)
    assert certificate.fingerprint_sha256 == "ebf395e99985f9a9361b414a09431a9699d28e78a5d56fa2f4b767af1b77e8b3"


def test_an_empty_file_yields_nothing(tmp_path):
    (tmp_path / "empty.xml").write_bytes(b"")
    assert list(parse(tmp_path / "empty.xml")) == []


@pytest.mark.parametrize("content, message", [
    (b"<nmaprun><host>", "malformed nmap XML"),
    (b"Target URL,Place,Parameter\n", "malformed nmap XML"),
    (b"<OWASPZAPReport></OWASPZAPReport>", "not an nmap XML report"),
    (b'<?xml version="1.0"?><!DOCTYPE n [<!ENTITY a "aaaa">]><nmaprun>&a;</nmaprun>', "refused nmap XML"),
])
def test_malformed_mismatched_or_hostile_xml_is_a_parse_error(tmp_path, content, message):
    path = tmp_path / "bad.xml"
    path.write_bytes(content)
    with pytest.raises(ParseError, match=message):
        list(parse(path))
