"""load_nvd (plain and gzip, idempotent, rejected entries dropped) and cve_findings_for_services."""

import gzip
import io
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from findings.compliance.selectors import scan_engines_ran
from findings.models import Finding, FindingOccurrence, KnownCve, KnownCveProduct
from findings.tests.factories import make_scan, make_service
from findings.vulndb.services import cve_findings_for_services

SAMPLE = Path(__file__).parent / "fixtures" / "nvd_sample.json"
REAL_CVES = ["CVE-2018-15473", "CVE-2019-20372", "CVE-2019-9511", "CVE-2021-23017", "CVE-2021-41617",
             "CVE-2023-38408"]


def load(*paths) -> str:
    out = io.StringIO()
    call_command("load_nvd", *[str(p) for p in paths], stdout=out)
    return out.getvalue()


@pytest.fixture
def nvd(db):
    load(SAMPLE)


def test_load_nvd_stores_cves_and_their_product_index(db):
    assert load(SAMPLE) == f"{SAMPLE}: 6 CVEs loaded (8 product keys), 1 rejected removed\n"
    assert sorted(KnownCve.objects.values_list("cve_id", flat=True)) == REAL_CVES
    cve = KnownCve.objects.get(cve_id="CVE-2021-23017")
    assert (float(cve.cvss_score), cve.severity, cve.cwe_ids) == (7.7, "high", ["CWE-193"])
    assert cve.cvss_vector == "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:L/A:H"
    assert cve.published.isoformat() == "2021-06-01T13:15:07.853000+00:00"
    assert cve.configurations[0]["nodes"][0]["cpeMatch"][0] == {
        "vulnerable": True, "criteria": "cpe:2.3:a:f5:nginx:*:*:*:*:open_source:*:*:*",
        "versionStartIncluding": "0.6.18", "versionEndExcluding": "1.20.1"}
    assert sorted(KnownCveProduct.objects.filter(cve__cve_id="CVE-2018-15473")
                  .values_list("part", "vendor", "product")) == [
        ("a", "openbsd", "openssh"), ("o", "canonical", "ubuntu_linux"), ("o", "debian", "debian_linux")]


def test_load_nvd_reads_gzip_and_is_idempotent(db, tmp_path):
    packed = tmp_path / "nvdcve-2.0-sample.json.gz"
    with SAMPLE.open("rb") as source, gzip.open(packed, "wb") as target:
        shutil.copyfileobj(source, target)
    load(SAMPLE)
    first = sorted(KnownCveProduct.objects.values_list("cve__cve_id", "vendor", "product"))
    load(packed)
    assert KnownCve.objects.count() == 6 and KnownCveProduct.objects.count() == 8
    assert sorted(KnownCveProduct.objects.values_list("cve__cve_id", "vendor", "product")) == first


def test_a_feed_marking_a_loaded_cve_rejected_removes_it(db, tmp_path):
    load(SAMPLE)
    feed = tmp_path / "update.json"
    feed.write_text('{"format": "NVD_CVE", "version": "2.0", "vulnerabilities": [{"cve": {"id": "CVE-2019-9511",'
                    ' "vulnStatus": "Rejected", "descriptions": []}}]}')
    assert "1 rejected removed" in load(feed)
    assert not KnownCve.objects.filter(cve_id="CVE-2019-9511").exists()
    assert KnownCveProduct.objects.count() == 7


@pytest.mark.parametrize("text", ['{"vulnerabilities": [{"nope": 1}]}', '{"vulnerabilities": [', "[]"])
def test_load_nvd_refuses_what_is_not_a_feed(db, tmp_path, text):
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    with pytest.raises(CommandError, match="not an NVD CVE JSON 2.0 feed"):
        load(bad)


def test_load_nvd_names_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        load(tmp_path / "missing.json")


def test_nmap_cpes_become_cve_findings(tenant_a, nvd):
    scan = make_scan(tenant_a.tenant_id)
    make_service(scan, port=80, service="http", product="nginx", version="1.16.1",
                 cpes=["cpe:/a:igor_sysoev:nginx:1.16.1"])
    make_service(scan, port=22, service="ssh", product="OpenSSH", version="7.4p1 Debian 10+deb9u7",
                 cpes=["cpe:/a:openbsd:openssh:7.4p1", "cpe:/o:linux:linux_kernel"])
    make_service(scan, port=8080, service="http", product="nginx", version="1.16.1", state="closed",
                 cpes=["cpe:/a:igor_sysoev:nginx:1.16.1"])
    assert cve_findings_for_services(tenant_id=tenant_a.tenant_id, scan=scan) == 5
    found = sorted(Finding.objects.values_list("rule_id", "port", "severity", "tool"))
    assert found == [("CVE-2018-15473", 22, "medium", "cve-match"), ("CVE-2019-20372", 80, "medium", "cve-match"),
                     ("CVE-2021-23017", 80, "high", "cve-match"), ("CVE-2021-41617", 22, "high", "cve-match"),
                     ("CVE-2023-38408", 22, "critical", "cve-match")]
    smuggling = Finding.objects.get(rule_id="CVE-2019-20372")
    assert smuggling.title == "CVE-2019-20372 in nginx 1.16.1" and smuggling.cve_ids == ["CVE-2019-20372"]
    assert smuggling.affected_component == "127.0.0.1:80/tcp" and smuggling.cwe_ids == ["CWE-444"]
    assert smuggling.remediation == ("Upgrade nginx to a version outside the affected range: "
                                     "cpe:2.3:a:f5:nginx:*:*:*:*:*:*:*:* (< 1.17.7).")
    assert smuggling.references[0] == "https://nvd.nist.gov/vuln/detail/CVE-2019-20372"
    assert "matches cpe:2.3:a:f5:nginx" in smuggling.evidence and smuggling.category == "vulnerability"


def test_cve_matching_is_idempotent_per_scan(tenant_a, nvd):
    scan = make_scan(tenant_a.tenant_id)
    make_service(scan, port=80, cpes=["cpe:/a:igor_sysoev:nginx:1.16.1"])
    cve_findings_for_services(tenant_id=tenant_a.tenant_id, scan=scan)
    cve_findings_for_services(tenant_id=tenant_a.tenant_id, scan=scan)
    assert list(Finding.objects.values_list("occurrences", flat=True)) == [1, 1]
    assert FindingOccurrence.objects.count() == 2


def test_nothing_matches_without_a_database_or_a_vulnerable_version(tenant_a, db):
    scan = make_scan(tenant_a.tenant_id)
    make_service(scan, port=80, cpes=["cpe:/a:igor_sysoev:nginx:1.16.1"])
    assert cve_findings_for_services(tenant_id=tenant_a.tenant_id, scan=scan) == 0
    load(SAMPLE)
    patched = make_scan(tenant_a.tenant_id)
    make_service(patched, port=80, cpes=["cpe:/a:igor_sysoev:nginx:1.25.3"])
    make_service(patched, port=22, cpes=["cpe:/a:openbsd:openssh"])  # no version: no guess
    make_service(patched, port=23, cpes=["not a cpe"])
    assert cve_findings_for_services(tenant_id=tenant_a.tenant_id, scan=patched) == 0
    assert Finding.objects.count() == 0


def test_matching_stays_in_the_tenant(tenant_a, tenant_b, nvd):
    theirs = make_scan(tenant_b.tenant_id)
    make_service(theirs, port=80, cpes=["cpe:/a:igor_sysoev:nginx:1.16.1"])
    assert cve_findings_for_services(tenant_id=tenant_a.tenant_id, scan=theirs) == 0
    assert Finding.objects.count() == 0


def test_cve_match_counts_as_an_engine_for_compliance_once_a_database_is_loaded(tenant_a, nvd):
    scan = make_scan(tenant_a.tenant_id)
    assert scan_engines_ran(tenant_id=tenant_a.tenant_id, scan=scan) == {"nmap", "cve-match"}
    KnownCve.objects.all().delete()
    assert scan_engines_ran(tenant_id=tenant_a.tenant_id, scan=scan) == {"nmap"}
