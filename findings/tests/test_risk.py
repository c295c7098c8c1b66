"""The risk score's ordering (findings.risk) and the scan_risk / target_risk selectors."""

import pytest

from engines.records import Severity
from findings.models import Finding
from findings.risk import Exposure, finding_weight, risk_score
from findings.selectors import scan_risk, target_risk
from findings.tests.factories import ingest, make_scan, make_service, record

HIDDEN = Exposure()


def score(*groups, exposure=HIDDEN):
    return risk_score(list(groups), exposure).score


def test_nothing_scores_zero():
    result = risk_score([])
    assert (result.score, result.level) == (0.0, "none")


@pytest.mark.parametrize("many", [1, 10, 1000, 100000])
def test_one_critical_beats_any_number_of_lower_findings(many):
    critical = score(("critical", None, 1))
    assert critical > score(("high", 8.9, many), ("medium", 6.9, many), ("low", 3.9, many),
                            exposure=Exposure(open_ports=50, internet_facing=True))


@pytest.mark.parametrize("severity", ["critical", "high", "medium", "low"])
def test_more_of_the_same_raises_the_score(severity):
    scores = [score((severity, None, count)) for count in (1, 2, 5, 10)]
    assert scores == sorted(scores) and len(set(scores)) == 4


def test_higher_cvss_raises_the_score_within_a_severity():
    assert score(("high", 7.0, 1)) < score(("high", 8.9, 1))


def test_exposure_raises_the_score_but_never_changes_the_band():
    hidden = risk_score([("medium", None, 3)])
    exposed = risk_score([("medium", None, 3)], Exposure(open_ports=12, internet_facing=True))
    assert hidden.score < exposed.score and hidden.level == exposed.level == "medium"
    assert 0 < risk_score([], Exposure(open_ports=20, internet_facing=True)).score < 5


def test_info_findings_weigh_nothing():
    assert finding_weight("info", 9.0) == 0 and score(("info", None, 500)) == 0.0


def test_levels_and_the_documented_values():
    assert risk_score([("critical", None, 1)]).as_dict() == {
        "score": 76.1, "level": "critical", "formula_version": 1,
        "counts": {"critical": 1, "high": 0, "medium": 0, "low": 0, "info": 0},
        "open_ports": 0, "internet_facing": False}
    assert [risk_score([(s, None, 1)]).level for s in ("high", "medium", "low")] == ["high", "medium", "low"]


def test_scores_never_round_into_the_next_band():
    assert score(("high", 10.0, 10**6), exposure=Exposure(open_ports=20, internet_facing=True)) == 69.9


def test_scan_risk_counts_open_and_in_progress_only(tenant_a):
    scan = make_scan(tenant_a.tenant_id)
    make_service(scan, port=22, service="ssh")
    make_service(scan, port=80)
    make_service(scan, port=81, state="closed")
    ingest(scan, record("c", severity=Severity.CRITICAL, cvss_score=9.8), record("l", severity=Severity.LOW))
    before = scan_risk(tenant_id=tenant_a.tenant_id, scan=scan)
    assert (before.level, before.counts["critical"], before.exposure.open_ports) == ("critical", 1, 2)
    Finding.objects.filter(rule_id="c").update(status="false_positive")
    after_dismissal = scan_risk(tenant_id=tenant_a.tenant_id, scan=scan)
    assert after_dismissal.level == "low" and after_dismissal.score < before.score
    Finding.objects.filter(rule_id="l").update(status="resolved")
    assert scan_risk(tenant_id=tenant_a.tenant_id, scan=scan).score < after_dismissal.score
    Finding.objects.filter(rule_id="l").update(status="in_progress")
    assert scan_risk(tenant_id=tenant_a.tenant_id, scan=scan).score == after_dismissal.score


def test_scan_risk_is_three_queries(tenant_a, django_assert_num_queries):
    scan = make_scan(tenant_a.tenant_id)
    ingest(scan, record("c", severity=Severity.CRITICAL))
    with django_assert_num_queries(3):
        scan_risk(tenant_id=tenant_a.tenant_id, scan=scan)


def test_target_risk_spans_the_targets_scans_and_not_another_tenants(tenant_a, tenant_b):
    first, second = make_scan(tenant_a.tenant_id), make_scan(tenant_a.tenant_id)
    ingest(first, record("a", severity=Severity.HIGH))
    ingest(second, record("b", severity=Severity.MEDIUM))
    ingest(make_scan(tenant_b.tenant_id), record("z", severity=Severity.CRITICAL))
    other_target = make_scan(tenant_a.tenant_id, target="127.0.0.5")
    ingest(other_target, record("c", severity=Severity.CRITICAL, host="127.0.0.5"))
    result = target_risk(tenant_id=tenant_a.tenant_id, target_value="127.0.0.1")
    assert (result.level, result.counts["high"], result.counts["medium"], result.counts["critical"]) == (
        "high", 1, 1, 0)
