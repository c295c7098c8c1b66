"""The sqlmap wrapper without sqlmap: option schema (seed 002), production caps, hostile values, the exact
command line, live-line events, problems and parsing of a real log placed where sqlmap writes it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from engines.base import EngineJob
from engines.errors import EngineFailed
from engines.options import OptionTypeError
from engines.process import ProcessResult
from engines.records import FindingRecord, Severity
from engines.sqlmap.engine import SqlmapEngine

FIXTURES = Path(__file__).parent / "fixtures"
ENGINE = SqlmapEngine()
SEED_DEFAULTS = {"level": 1, "risk": 1, "technique": "BEUSTQ", "dbs": False, "batch": True}
HOSTILE = [
    "-o /tmp/x", "--output-dir=/etc", "--update", "--os-shell", "B; rm -rf /", "$(id)", "`id`", "B\nE",
    "B\x00", "../../etc/passwd", "BEUSTQ --dbs", "B|id", "B&&id", "B E",
]


def job(workdir: Path, options: dict[str, Any] | None = None, *,
        target: str = "http://127.0.0.1:8000/item?id=1", address: str | None = None) -> EngineJob:
    validated = ENGINE.validate_options(options or {}, target_type="url")
    return EngineJob(target=target, target_type="url", address=address, options=validated, workdir=workdir,
                     timeout_s=60, binary="/usr/bin/sqlmap")


def test_identity_matches_seed_002() -> None:
    assert (ENGINE.name, ENGINE.executable, ENGINE.category) == ("sqlmap", "sqlmap", "web_app")
    assert ENGINE.target_types == frozenset({"url"})
    assert ENGINE.default_timeout_s > 0


def test_schema_has_every_seed_option_with_its_default() -> None:
    assert ENGINE.schema.names() == list(SEED_DEFAULTS)
    assert ENGINE.validate_options({}, target_type="url") == SEED_DEFAULTS
    properties = ENGINE.schema.json_schema()["properties"]
    assert (properties["level"]["minimum"], properties["level"]["maximum"]) == (1, 5)
    assert (properties["risk"]["minimum"], properties["risk"]["maximum"]) == (1, 3)
    assert properties["technique"]["default"] == "BEUSTQ"
    assert {name: spec["default"] for name, spec in properties.items()} == SEED_DEFAULTS


def test_valid_options_are_kept() -> None:
    raw = {"level": 3, "risk": 2, "technique": "BT", "dbs": True}
    options = ENGINE.validate_options(raw, target_type="url")
    assert options == {"level": 3, "risk": 2, "technique": "BT", "dbs": True, "batch": True}


@pytest.mark.parametrize(("raw", "option"), [
    ({"threads": 4}, "threads"),
    ({"level": "3"}, "level"),
    ({"level": 2.0}, "level"),
    ({"risk": True}, "risk"),
    ({"technique": 5}, "technique"),
    ({"dbs": "yes"}, "dbs"),
    ({"batch": 1}, "batch"),
    ({"level": 0}, "level"),
    ({"level": 6}, "level"),
    ({"risk": 0}, "risk"),
    ({"risk": 4}, "risk"),
    ({"technique": ""}, "technique"),
    ({"technique": "BX"}, "technique"),
    ({"technique": "bEUSTQ"}, "technique"),
    ({"technique": "BB"}, "technique"),
    ({"technique": "BEUSTQB"}, "technique"),
])
def test_unknown_wrong_type_or_out_of_range_names_the_option(raw: dict[str, Any], option: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options(raw, target_type="url")
    assert caught.value.option == option
    assert f"'{option}'" in str(caught.value)


def test_options_must_be_an_object() -> None:
    with pytest.raises(OptionTypeError, match="options"):
        ENGINE.validate_options(["level", 5], target_type="url")


@pytest.mark.parametrize(("raw", "option"), [({"level": 4}, "level"), ({"level": 5}, "level"),
                                             ({"risk": 3}, "risk"), ({"level": 4, "risk": 3}, "level")])
def test_aggressive_settings_are_refused_on_production_targets(raw: dict[str, Any], option: str) -> None:
    with pytest.raises(OptionTypeError, match="non-production") as caught:
        ENGINE.validate_options(raw, target_type="url")
    assert caught.value.option == option


def test_aggressive_settings_are_allowed_on_non_production_targets() -> None:
    options = ENGINE.validate_options({"level": 5, "risk": 3}, target_type="url", non_production=True)
    assert (options["level"], options["risk"]) == (5, 3)


def test_production_allows_up_to_level_3_and_risk_2() -> None:
    options = ENGINE.validate_options({"level": 3, "risk": 2}, target_type="url")
    assert (options["level"], options["risk"]) == (3, 2)


def test_batch_false_is_refused() -> None:
    with pytest.raises(OptionTypeError, match="without a terminal") as caught:
        ENGINE.validate_options({"batch": False}, target_type="url")
    assert caught.value.option == "batch"


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("option", list(SEED_DEFAULTS))
def test_hostile_values_are_refused_before_any_argv(option: str, value: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options({option: value}, target_type="url", non_production=True)
    assert caught.value.option == option


def test_argv_with_defaults(tmp_path: Path) -> None:
    assert ENGINE.build_argv(job(tmp_path)) == [
        "/usr/bin/sqlmap", "-u", "http://127.0.0.1:8000/item?id=1",
        "--batch", "--ignore-stdin", "--disable-coloring", "--flush-session",
        "--answers=extending=N,keep testing=Y",
        "--output-dir", str(tmp_path / "sqlmap"),
        "--level", "1", "--risk", "1", "--technique", "BEUSTQ",
    ]


def test_argv_with_every_option(tmp_path: Path) -> None:
    argv = ENGINE.build_argv(job(tmp_path, {"level": 3, "risk": 2, "technique": "BT", "dbs": True}))
    assert argv == [
        "/usr/bin/sqlmap", "-u", "http://127.0.0.1:8000/item?id=1",
        "--batch", "--ignore-stdin", "--disable-coloring", "--flush-session",
        "--answers=extending=N,keep testing=Y",
        "--output-dir", str(tmp_path / "sqlmap"),
        "--level", "3", "--risk", "2", "--technique", "BT", "--dbs",
    ]
    assert "--update" not in argv and not any(arg.startswith("--os-") for arg in argv)


def test_pinned_address_replaces_the_host(tmp_path: Path) -> None:
    argv = ENGINE.build_argv(job(tmp_path, target="http://scanme.lantern.test:8080/x", address="127.0.0.1"))
    assert argv[1:3] == ["-u", "http://127.0.0.1:8080/x"]
    assert not any("scanme" in arg for arg in argv)


def test_on_line_reports_injectable_parameters() -> None:
    line = ("[07:28:02] [INFO] GET parameter 'id' appears to be 'AND boolean-based blind - WHERE or HAVING "
            "clause' injectable (with --string=\"lantern: 3\")")
    (event,) = ENGINE.on_line(line)
    assert event.kind == "finding_found"
    assert event.data["parameter"] == "id" and event.data["place"] == "GET"
    assert event.data["technique"] == "AND boolean-based blind - WHERE or HAVING clause"
    (union,) = ENGINE.on_line("[07:28:02] [INFO] GET parameter 'id' is 'Generic UNION query (NULL) - 1 to 20 "
                              "columns' injectable")
    assert union.data["technique"] == "Generic UNION query (NULL) - 1 to 20 columns"


@pytest.mark.parametrize("line", [
    "[07:28:01] [INFO] heuristic (basic) test shows that GET parameter 'id' might be injectable",
    "[07:28:03] [WARNING] GET parameter 'q' does not seem to be injectable",
    "[07:28:01] [INFO] testing 'AND boolean-based blind - WHERE or HAVING clause'",
    "",
])
def test_on_line_ignores_other_lines(line: str) -> None:
    assert ENGINE.on_line(line) == []


def test_on_line_reports_the_retrieval_progress_bar() -> None:
    (event,) = ENGINE.on_line("45% [=============>                  ] 12/27 (ETA 00:03)")
    assert event.kind == "progress" and event.data["percent"] == 45


def _result(workdir: Path, stdout: str) -> ProcessResult:
    (workdir / "stdout.log").write_text(stdout)
    return ProcessResult(argv=["sqlmap"], returncode=0, duration_s=1.0, stdout_tail=stdout, stderr_tail="")


def _place_log(workdir: Path, fixture: str) -> Path:
    host_dir = workdir / "sqlmap" / "127.0.0.1"
    host_dir.mkdir(parents=True)
    return Path(shutil.copy(FIXTURES / fixture, host_dir / "log"))


def test_unreachable_target_is_a_problem_although_sqlmap_exits_0(tmp_path: Path) -> None:
    _place_log(tmp_path, "dd_sqlmap_no_vuln.log")
    stdout = ("[07:28:03] [CRITICAL] unable to connect to the target URL ('Connection refused'). sqlmap is "
              "going to retry the request(s)\n"
              "[07:28:03] [CRITICAL] unable to connect to the target URL ('Connection refused')\n")
    assert ENGINE.problems(job(tmp_path), _result(tmp_path, stdout)) == [
        "unable to connect to the target URL ('Connection refused')"]


def test_url_without_parameters_is_a_problem(tmp_path: Path) -> None:
    _place_log(tmp_path, "dd_sqlmap_no_vuln.log")
    stdout = "[07:28:03] [CRITICAL] no parameter(s) found for testing in the provided data (e.g. GET ...)\n"
    (reason,) = ENGINE.problems(job(tmp_path), _result(tmp_path, stdout))
    assert reason.startswith("no parameter(s) found for testing")


def test_nothing_injectable_is_not_a_problem(tmp_path: Path) -> None:
    _place_log(tmp_path, "dd_sqlmap_no_vuln.log")
    stdout = ("[07:26:03] [CRITICAL] all tested parameters do not appear to be injectable. Try to increase "
              "values for '--level'/'--risk' options\n")
    assert ENGINE.problems(job(tmp_path), _result(tmp_path, stdout)) == []
    assert list(ENGINE.parse(job(tmp_path))) == []


def test_no_log_at_all_is_a_problem(tmp_path: Path) -> None:
    assert ENGINE.problems(job(tmp_path), _result(tmp_path, "")) == [
        "sqlmap did not test the target (no log in its output directory)"]


def test_parse_reads_the_log_where_sqlmap_writes_it(tmp_path: Path) -> None:
    _place_log(tmp_path, "dd_sqlmap_one_vuln.log")
    (tmp_path / "sqlmap" / "127.0.0.1" / "target.txt").write_text(
        "http://127.0.0.1:8000/item?id=1 (GET)  # sqlmap -u http://127.0.0.1:8000/item?id=1\n")
    (finding,) = list(ENGINE.parse(job(tmp_path)))
    assert isinstance(finding, FindingRecord)
    assert finding.cwe_ids == ("CWE-89",) and finding.severity is Severity.HIGH
    assert finding.location == "http://127.0.0.1:8000/item (GET parameter 'id')"
    assert finding.extra["techniques"] == "boolean-based blind, time-based blind, UNION query"
    assert finding.extra["dbms"] == "SQLite"


def test_parse_without_output_fails(tmp_path: Path) -> None:
    with pytest.raises(EngineFailed, match="no log"):
        ENGINE.parse(job(tmp_path))
