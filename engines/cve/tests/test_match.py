from pathlib import Path

import pytest

from engines.cve.match import Detected, match_configurations
from engines.cve.nvd import configurations_from_json, iter_feed

SAMPLE = Path(__file__).resolve().parents[3] / "findings" / "tests" / "fixtures" / "nvd_sample.json"
FEED = {item.cve_id: item for item in iter_feed(SAMPLE)}


def cves(cpe, *, version="", platform=()):
    product = Detected.from_cpe(cpe, fallback_version=version)
    context = [Detected.from_cpe(value) for value in platform]
    return sorted(cve_id for cve_id, item in FEED.items() if match_configurations(item.configurations, product, context))


@pytest.mark.parametrize("cpe, expected", [
    ("cpe:/a:igor_sysoev:nginx:1.16.1", ["CVE-2019-20372", "CVE-2021-23017"]),
    ("cpe:/a:igor_sysoev:nginx:1.16.0", ["CVE-2019-20372", "CVE-2019-9511", "CVE-2021-23017"]),
    ("cpe:2.3:a:nginx:nginx:1.17.2:*:*:*:*:*:*:*", ["CVE-2019-20372", "CVE-2019-9511", "CVE-2021-23017"]),
    ("cpe:/a:igor_sysoev:nginx:1.20.1", []),
    ("cpe:/a:openbsd:openssh:7.4p1", ["CVE-2018-15473", "CVE-2021-41617", "CVE-2023-38408"]),
    ("cpe:/a:openbsd:openssh:7.7", ["CVE-2018-15473", "CVE-2021-41617", "CVE-2023-38408"]),
    ("cpe:/a:openbsd:openssh:7.7p1", ["CVE-2021-41617", "CVE-2023-38408"]),
    ("cpe:/a:openbsd:openssh:9.3p1", ["CVE-2023-38408"]),
    ("cpe:2.3:a:openbsd:openssh:9.3:p1:*:*:*:*:*:*", ["CVE-2023-38408"]),
    ("cpe:/a:openbsd:openssh:9.3p2", []),
    ("cpe:/a:openbsd:openssh:6.1", ["CVE-2018-15473", "CVE-2023-38408"]),
])
def test_sample_feed_matches(cpe, expected):
    assert cves(cpe) == expected


def test_the_service_version_fills_a_cpe_without_one():
    assert cves("cpe:/a:openbsd:openssh", version="9.3p1 Ubuntu 1ubuntu3") == ["CVE-2023-38408"]
    assert cves("cpe:/a:openbsd:openssh") == []


def test_other_products_never_match():
    assert cves("cpe:/a:apache:http_server:2.4.49") == []


def _and_config(platform_criteria, vulnerable=False):
    return configurations_from_json([{"operator": "AND", "nodes": [
        {"operator": "OR", "cpeMatch": [{"vulnerable": True, "criteria": "cpe:2.3:a:acme:web:*:*:*:*:*:*:*:*",
                                         "versionEndExcluding": "2.0"}]},
        {"operator": "OR", "cpeMatch": [{"vulnerable": vulnerable, "criteria": platform_criteria}]}]}])


def test_running_on_configurations():
    config = _and_config("cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*")
    web = Detected.from_cpe("cpe:/a:acme:web:1.5")
    assert match_configurations(config, web) is not None  # platform unknown: still reported
    assert match_configurations(config, web, [Detected.from_cpe("cpe:/o:microsoft:windows:-")]) is not None
    assert match_configurations(config, Detected.from_cpe("cpe:/a:acme:web:2.0")) is None


def test_an_and_node_needs_all_of_its_entries():
    config = configurations_from_json([{"nodes": [{"operator": "AND", "cpeMatch": [
        {"vulnerable": True, "criteria": "cpe:2.3:a:acme:web:1.0:*:*:*:*:*:*:*"},
        {"vulnerable": True, "criteria": "cpe:2.3:a:acme:plugin:*:*:*:*:*:*:*:*"}]}]}])
    assert match_configurations(config, Detected.from_cpe("cpe:/a:acme:web:1.0")) is None


def test_a_negated_node_inverts():
    config = configurations_from_json([{"operator": "AND", "nodes": [
        {"operator": "OR", "cpeMatch": [{"vulnerable": True, "criteria": "cpe:2.3:a:acme:web:*:*:*:*:*:*:*:*"}]},
        {"operator": "OR", "negate": True, "cpeMatch": [
            {"vulnerable": False, "criteria": "cpe:2.3:o:acme:hardened_os:*:*:*:*:*:*:*:*"}]}]}])
    web = Detected.from_cpe("cpe:/a:acme:web:1.0")
    assert match_configurations(config, web) is not None
    assert match_configurations(config, web, [Detected.from_cpe("cpe:/o:acme:hardened_os:3")]) is None


def test_the_evidence_is_the_matching_criterion():
    match = match_configurations(FEED["CVE-2021-23017"].configurations,
                                 Detected.from_cpe("cpe:/a:igor_sysoev:nginx:1.16.1"))
    assert (match.criteria, match.version_start_including, match.version_end_excluding) == (
        "cpe:2.3:a:f5:nginx:*:*:*:*:open_source:*:*:*", "0.6.18", "1.20.1")
