import gzip
import io
import json
from pathlib import Path

import pytest

from engines.cve import nvd
from engines.cve.nvd import (
    NvdFormatError,
    configurations_from_json,
    configurations_to_json,
    iter_feed,
    iter_stream,
)

SAMPLE = Path(__file__).resolve().parents[3] / "findings" / "tests" / "fixtures" / "nvd_sample.json"


def test_the_sample_feed_is_read_whole():
    items = list(iter_feed(SAMPLE))
    assert [item.cve_id for item in items] == ["CVE-2019-20372", "CVE-2021-23017", "CVE-2019-9511",
                                               "CVE-2018-15473", "CVE-2023-38408", "CVE-2021-41617", "CVE-2099-0001"]
    nginx = items[0]
    assert (nginx.cvss_score, nginx.severity, nginx.cwe_ids) == (5.3, "medium", ("CWE-444",))
    assert nginx.description.startswith("NGINX before 1.17.7")
    assert nginx.products() == {("a", "f5", "nginx")}
    match = nginx.configurations[0].nodes[0].matches[0]
    assert (match.criteria, match.version_end_excluding, match.vulnerable) == (
        "cpe:2.3:a:f5:nginx:*:*:*:*:*:*:*:*", "1.17.7", True)
    assert items[5].cwe_ids == ()  # NVD-CWE-Other is not a CWE id
    assert items[6].rejected and items[6].cvss_score is None


def test_streaming_survives_any_chunk_boundary(monkeypatch):
    expected = [item.cve_id for item in iter_feed(SAMPLE)]
    for size in (1, 7, 64, 4096):
        monkeypatch.setattr(nvd, "CHUNK", size)
        assert [item.cve_id for item in iter_feed(SAMPLE)] == expected


def test_gzip_is_recognised_by_content(tmp_path):
    packed = tmp_path / "feed.json"  # no .gz suffix on purpose
    packed.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    assert len(list(iter_feed(packed))) == 7


def test_a_number_cut_at_a_chunk_edge_is_read_whole(monkeypatch):
    monkeypatch.setattr(nvd, "CHUNK", 3)
    text = '{"totalResults": 123456, "vulnerabilities": [{"cve": {"id": "CVE-2020-0001"}}]}'
    assert [item.cve_id for item in iter_stream(io.StringIO(text))] == ["CVE-2020-0001"]


def test_cvss_preference_and_fallbacks():
    metrics = {"cvssMetricV2": [{"type": "Primary", "cvssData": {"baseScore": 5.0}, "baseSeverity": "MEDIUM"}],
               "cvssMetricV31": [{"type": "Secondary", "cvssData": {"baseScore": 9.1, "baseSeverity": "CRITICAL"}},
                                 {"type": "Primary", "cvssData": {"baseScore": 8.8, "baseSeverity": "HIGH"}}]}
    item = nvd.parse_cve({"id": "cve-2020-1", "metrics": metrics})
    assert (item.cve_id, item.cvss_score, item.severity) == ("CVE-2020-1", 8.8, "high")
    v2 = nvd.parse_cve({"id": "CVE-2010-1", "metrics": {"cvssMetricV2": metrics["cvssMetricV2"]}})
    assert (v2.cvss_score, v2.severity) == (5.0, "medium")


def test_configurations_round_trip_through_json():
    items = list(iter_feed(SAMPLE))
    for item in items:
        stored = json.loads(json.dumps(configurations_to_json(item.configurations)))
        assert configurations_from_json(stored) == item.configurations


@pytest.mark.parametrize("text", ["[]", '{"vulnerabilities": [1]}', '{"vulnerabilities": [{"cve": {}}]}',
                                  '{"vulnerabilities": [{"cve": {"id": "CVE-1"}}', '{"a": 1 "b": 2}', ""])
def test_broken_feeds_raise(text):
    with pytest.raises(NvdFormatError):
        list(iter_stream(io.StringIO(text)))


def test_an_empty_feed_has_no_items():
    assert list(iter_stream(io.StringIO('{"format": "NVD_CVE", "vulnerabilities": []}'))) == []
    assert list(iter_stream(io.StringIO("{}"))) == []
