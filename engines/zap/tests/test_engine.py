"""The ZAP wrapper (ZAP cannot be installed here): option schema (seed 002), the refused authentication
object, hostile values, the exact command line and Automation Framework plan, the scope guard, live-line
events, problems, parsing of a real report placed where ZAP writes it, and the clear failure when the tool is
missing."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from engines.base import EngineJob
from engines.errors import EngineFailed, EngineUnavailable
from engines.options import OptionTypeError
from engines.process import ProcessResult
from engines.records import FindingRecord, HostRecord, ServiceRecord
from engines.runner import run_engine
from engines.zap.engine import ZapEngine

FIXTURES = Path(__file__).parent / "fixtures"
ENGINE = ZapEngine()
SEED_DEFAULTS = {"scanPolicy": "standard", "spiderMaxDepth": 3, "ajaxSpider": False, "activeScan": True,
                 "contextInclude": [], "contextExclude": []}
HOSTILE = [
    "-o /tmp/x", "--output=/etc/x", "-addonupdate", "-config api.disablekey=true", "a; rm -rf /", "$(id)",
    "https://x/$(id)", "`id`", "https://x/`id`", "https://x/\n.*", "https://x/\x00", "../../etc/passwd",
    "https://x/../../etc", "https://x/.* -quickout /tmp/x", "https://x/(", "light; id",
]


def job(workdir: Path, options: dict[str, Any] | None = None, *, target: str = "http://127.0.0.1:8000/",
        address: str | None = None, binary: str = "/opt/zap/zap.sh") -> EngineJob:
    validated = ENGINE.validate_options(options or {}, target_type="url")
    return EngineJob(target=target, target_type="url", address=address, options=validated, workdir=workdir,
                     timeout_s=60, binary=binary)


def test_identity_matches_seed_002() -> None:
    assert (ENGINE.name, ENGINE.executable, ENGINE.category) == ("zap", "zap.sh", "web_app")
    assert ENGINE.target_types == frozenset({"url"})
    assert ENGINE.ok_exit_codes == frozenset({0, 2})  # 2: the plan finished with warnings only


def test_schema_has_every_seed_option_with_its_default() -> None:
    assert ENGINE.schema.names() == [*SEED_DEFAULTS, "authentication"]
    assert ENGINE.validate_options({}, target_type="url") == SEED_DEFAULTS
    properties = ENGINE.schema.json_schema()["properties"]
    assert properties["scanPolicy"]["enum"] == ["light", "standard", "full"]
    assert properties["authentication"]["type"] == "object"
    assert "not supported yet" in properties["authentication"]["description"]


@pytest.mark.parametrize("value", [{"type": "form", "loginUrl": "https://x/login"}, {"type": "header"}, {}])
def test_authentication_is_refused_as_not_supported_yet(value: dict[str, Any]) -> None:
    with pytest.raises(OptionTypeError, match="not supported yet") as caught:
        ENGINE.validate_options({"authentication": value}, target_type="url")
    assert caught.value.option == "authentication"


@pytest.mark.parametrize(("raw", "option"), [
    ({"policy": "full"}, "policy"),
    ({"scanPolicy": "insane"}, "scanPolicy"),
    ({"scanPolicy": 2}, "scanPolicy"),
    ({"spiderMaxDepth": "5"}, "spiderMaxDepth"),
    ({"spiderMaxDepth": 0}, "spiderMaxDepth"),
    ({"spiderMaxDepth": 21}, "spiderMaxDepth"),
    ({"ajaxSpider": "true"}, "ajaxSpider"),
    ({"activeScan": 0}, "activeScan"),
    ({"contextInclude": "https://x/.*"}, "contextInclude"),
    ({"contextInclude": ["https://x/("]}, "contextInclude"),
    ({"contextExclude": ["x" * 513]}, "contextExclude[0]"),
    ({"contextExclude": ["https://x/"] * 33}, "contextExclude"),
])
def test_unknown_wrong_type_or_out_of_range_names_the_option(raw: dict[str, Any], option: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options(raw, target_type="url")
    assert caught.value.option == option


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("option", ["scanPolicy", "spiderMaxDepth", "ajaxSpider", "activeScan",
                                    "contextInclude", "contextExclude"])
def test_hostile_values_are_refused_before_any_argv(option: str, value: str) -> None:
    raw = {option: [value] if option.startswith("context") else value}
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options(raw, target_type="url")
    assert caught.value.option.startswith(option)


def test_argv_runs_the_plan_inline_and_silent(tmp_path: Path) -> None:
    assert ENGINE.build_argv(job(tmp_path)) == [
        "/opt/zap/zap.sh", "-cmd", "-silent", "-dir", str(tmp_path / "zap-home"),
        "-autorun", str(tmp_path / "zap-plan.yaml"),
    ]


def test_plan_with_defaults(tmp_path: Path) -> None:
    ENGINE.build_argv(job(tmp_path))
    plan = json.loads((tmp_path / "zap-plan.yaml").read_text())
    assert plan == {
        "env": {
            "contexts": [{"name": "lantern", "urls": ["http://127.0.0.1:8000/"], "includePaths": [],
                          "excludePaths": [r"(?!http://127\.0\.0\.1:8000(?:[/?#]|$)).*"]}],
            "parameters": {"failOnError": True, "failOnWarning": False, "progressToStdout": True},
        },
        "jobs": [
            {"type": "spider", "parameters": {"context": "lantern", "maxDepth": 3}},
            {"type": "passiveScan-wait", "parameters": {"maxDuration": 10}},
            {"type": "activeScan", "parameters": {"context": "lantern"},
             "policyDefinition": {"defaultStrength": "medium", "defaultThreshold": "medium"}},
            {"type": "report", "parameters": {
                "template": "traditional-xml", "reportDir": str(tmp_path), "reportFile": "zap-report.xml",
                "reportTitle": "Lantern ZAP scan"}},
        ],
    }


def test_plan_with_every_option(tmp_path: Path) -> None:
    options = {"scanPolicy": "full", "spiderMaxDepth": 5, "ajaxSpider": True, "activeScan": True,
               "contextInclude": ["https://app.example.com/.*", "/api/.*"],
               "contextExclude": ["https://app.example.com/logout"]}
    plan = ENGINE.plan(job(tmp_path, options, target="https://app.example.com/", address="10.0.0.5"))
    (context,) = plan["env"]["contexts"]
    assert context["urls"] == ["https://10.0.0.5/"]
    assert context["includePaths"] == [r"https://10\.0\.0\.5/.*", r"https://10\.0\.0\.5/api/.*"]
    assert context["excludePaths"] == [r"https://10\.0\.0\.5/logout", r"(?!https://10\.0\.0\.5(?:[/?#]|$)).*"]
    assert [step["type"] for step in plan["jobs"]] == [
        "spider", "spiderAjax", "passiveScan-wait", "activeScan", "report"]
    assert plan["jobs"][1]["parameters"] == {"context": "lantern", "maxCrawlDepth": 5}
    assert plan["jobs"][3]["policyDefinition"] == {"defaultStrength": "high", "defaultThreshold": "low"}


def test_plan_without_active_scan_only_spiders_and_reports(tmp_path: Path) -> None:
    plan = ENGINE.plan(job(tmp_path, {"activeScan": False, "scanPolicy": "light"}))
    assert [step["type"] for step in plan["jobs"]] == ["spider", "passiveScan-wait", "report"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/", "http://127.0.0.1:8000/a/b?c=d",
                                 "http://127.0.0.1:8000"])
def test_scope_guard_keeps_the_target_origin(tmp_path: Path, url: str) -> None:
    guard = ENGINE.plan(job(tmp_path))["env"]["contexts"][0]["excludePaths"][-1]
    assert re.fullmatch(guard, url) is None


@pytest.mark.parametrize("url", ["http://127.0.0.1:80001/", "http://127.0.0.1:800/",
                                 "https://127.0.0.1:8000/", "http://evil.example/http://127.0.0.1:8000/",
                                 "http://127.0.0.1:8000.evil/"])
def test_scope_guard_excludes_every_other_origin_even_with_a_broad_include(tmp_path: Path, url: str) -> None:
    context = ENGINE.plan(job(tmp_path, {"contextInclude": [".*"]}))["env"]["contexts"][0]
    assert context["includePaths"] == [".*"]
    assert re.fullmatch(context["excludePaths"][-1], url) is not None


def test_pinned_address_replaces_the_host(tmp_path: Path) -> None:
    argv = ENGINE.build_argv(job(tmp_path, {"contextInclude": ["http://scanme.lantern.test:8080/x/.*"]},
                                 target="http://scanme.lantern.test:8080/x", address="127.0.0.1"))
    plan_text = (tmp_path / "zap-plan.yaml").read_text()
    assert "scanme" not in plan_text and not any("scanme" in arg for arg in argv)
    context = json.loads(plan_text)["env"]["contexts"][0]
    assert context["urls"] == ["http://127.0.0.1:8080/x"]
    assert context["includePaths"] == [r"http://127\.0\.0\.1:8080/x/.*"]


def test_on_line_maps_plan_jobs_to_progress() -> None:
    jobs = ("spider", "spiderAjax", "passiveScan-wait", "activeScan", "report")
    percents = [ENGINE.on_line(f"Job {name} started")[0].data["percent"] for name in jobs]
    assert percents == [5, 20, 40, 45, 95]
    assert ENGINE.on_line("Job spider finished, time taken: 00:00:02") == []
    assert ENGINE.on_line("Job unknownJob started") == []


def _result(returncode: int = 0) -> ProcessResult:
    return ProcessResult(argv=["zap.sh"], returncode=returncode, duration_s=1.0, stdout_tail="",
                         stderr_tail="")


def test_a_missing_report_is_a_problem(tmp_path: Path) -> None:
    assert ENGINE.problems(job(tmp_path), _result()) == [
        "ZAP wrote no XML report (the plan did not reach its report job)"]
    with pytest.raises(EngineFailed, match="no XML report"):
        ENGINE.parse(job(tmp_path))


def test_parse_reads_the_report_where_zap_writes_it(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "dd_zap-results-first-scan.xml", tmp_path / "zap-report.xml")
    assert ENGINE.problems(job(tmp_path), _result(2)) == []
    records = list(ENGINE.parse(job(tmp_path)))
    assert records[:2] == [HostRecord(ip="", hostname="bodgeit.securecodebox-demo.svc"),
                           ServiceRecord(host="bodgeit.securecodebox-demo.svc", port=8080, service="http")]
    findings = [record for record in records if isinstance(record, FindingRecord)]
    assert len(findings) == 124 and {finding.engine for finding in findings} == {"zap"}


def test_a_missing_zap_is_unavailable_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(EngineUnavailable, match=r"zap\.sh is not installed"):
        run_engine(ENGINE, job(tmp_path, binary="zap.sh"))
