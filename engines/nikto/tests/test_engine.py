"""The nikto wrapper (nikto cannot be installed here): option schema (seed 002), tuning rules, hostile values,
the exact command line, live-line events, problems, parsing of a real report placed where nikto writes it,
and the clear failure when the tool is missing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from engines.base import EngineJob
from engines.errors import EngineFailed, EngineUnavailable
from engines.nikto.engine import NiktoEngine
from engines.options import OptionTypeError
from engines.process import ProcessResult
from engines.records import FindingRecord, HostRecord, ServiceRecord
from engines.runner import run_engine

FIXTURES = Path(__file__).parent / "fixtures"
ENGINE = NiktoEngine()
HOSTILE = [
    "-o /tmp/x", "-output=/etc/x", "-update", "-Plugins @@ALL", "1; rm -rf /", "$(id)", "`id`", "12\n3",
    "12\x003", "../../etc/passwd", "123 -o /tmp/x", "600s; id", "1 2",
]


def job(workdir: Path, options: dict[str, Any] | None = None, *, target: str = "http://127.0.0.1:8000/",
        address: str | None = None, binary: str = "/usr/bin/nikto") -> EngineJob:
    validated = ENGINE.validate_options(options or {}, target_type="url")
    return EngineJob(target=target, target_type="url", address=address, options=validated, workdir=workdir,
                     timeout_s=60, binary=binary)


def test_identity_matches_seed_002() -> None:
    assert (ENGINE.name, ENGINE.executable, ENGINE.category) == ("nikto", "nikto", "web_server")
    assert ENGINE.target_types == frozenset({"url"})
    assert ENGINE.ok_exit_codes == frozenset({0, 1})  # nikto exits 1 whenever it reported an item


def test_schema_has_every_seed_option_with_its_default() -> None:
    assert ENGINE.schema.names() == ["tuning", "maxTime", "ssl"]
    assert ENGINE.validate_options({}, target_type="url") == {"tuning": "123"}
    properties = ENGINE.schema.json_schema()["properties"]
    assert properties["tuning"]["default"] == "123"
    assert properties["ssl"]["type"] == "boolean" and "default" not in properties["ssl"]  # auto
    assert properties["maxTime"]["type"] == "string" and "default" not in properties["maxTime"]


def test_valid_options_are_kept() -> None:
    options = ENGINE.validate_options({"tuning": "1234", "maxTime": "600s", "ssl": True}, target_type="url")
    assert options == {"tuning": "1234", "maxTime": "600s", "ssl": True}


@pytest.mark.parametrize(("raw", "option"), [
    ({"port": 80}, "port"),
    ({"tuning": 123}, "tuning"),
    ({"tuning": ""}, "tuning"),
    ({"tuning": "11"}, "tuning"),
    ({"tuning": "x6"}, "tuning"),
    ({"tuning": "c"}, "tuning"),
    ({"tuning": "f"}, "tuning"),
    ({"tuning": "A"}, "tuning"),
    ({"maxTime": 600}, "maxTime"),
    ({"maxTime": "600"}, "maxTime"),
    ({"maxTime": "0s"}, "maxTime"),
    ({"maxTime": "25h"}, "maxTime"),
    ({"ssl": "auto"}, "ssl"),
    ({"ssl": 1}, "ssl"),
])
def test_unknown_wrong_type_or_out_of_range_names_the_option(raw: dict[str, Any], option: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options(raw, target_type="url")
    assert caught.value.option == option


def test_denial_of_service_tuning_needs_a_non_production_target() -> None:
    with pytest.raises(OptionTypeError, match="non-production") as caught:
        ENGINE.validate_options({"tuning": "126"}, target_type="url")
    assert caught.value.option == "tuning"
    options = ENGINE.validate_options({"tuning": "126"}, target_type="url", non_production=True)
    assert options["tuning"] == "126"


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("option", ["tuning", "maxTime", "ssl"])
def test_hostile_values_are_refused_before_any_argv(option: str, value: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options({option: value}, target_type="url", non_production=True)
    assert caught.value.option == option


def test_argv_with_defaults(tmp_path: Path) -> None:
    assert ENGINE.build_argv(job(tmp_path)) == [
        "/usr/bin/nikto", "-h", "http://127.0.0.1:8000/",
        "-ask", "no", "-nointeractive", "-nolookup", "-Display", "P",
        "-Tuning", "123", "-Format", "xml", "-output", str(tmp_path / "nikto.xml"),
    ]


@pytest.mark.parametrize(("ssl", "flag"), [(True, ["-ssl"]), (False, ["-nossl"])])
def test_argv_with_every_option(tmp_path: Path, ssl: bool, flag: list[str]) -> None:
    argv = ENGINE.build_argv(job(tmp_path, {"tuning": "1234", "maxTime": "10m", "ssl": ssl}))
    assert argv == [
        "/usr/bin/nikto", "-h", "http://127.0.0.1:8000/",
        "-ask", "no", "-nointeractive", "-nolookup", "-Display", "P",
        "-Tuning", "1234", "-Format", "xml", "-output", str(tmp_path / "nikto.xml"),
        "-maxtime", "10m", *flag,
    ]
    assert "-update" not in argv


def test_pinned_address_replaces_the_host(tmp_path: Path) -> None:
    argv = ENGINE.build_argv(job(tmp_path, target="http://scanme.lantern.test:8080/x", address="127.0.0.1"))
    assert argv[1:3] == ["-h", "http://127.0.0.1:8080/x"]
    assert not any("scanme" in arg for arg in argv)


def test_on_line_reports_progress_and_items() -> None:
    (progress,) = ENGINE.on_line("- STATUS: Completed 120 requests (~13% complete, 6.7 minutes left): "
                                 "currently in plugin 'Nikto Tests'")
    assert progress.kind == "progress" and progress.data == {"percent": 13}
    (item,) = ENGINE.on_line("+ OSVDB-397: /: HTTP method ('Allow' Header): 'PUT' method could allow clients "
                             "to save files on the web server.")
    assert item.kind == "finding_found"
    assert item.data == {"title": "HTTP method ('Allow' Header): 'PUT' method could allow clients to save "
                         "files on the web server.", "location": "/", "osvdb": "397"}
    (newer,) = ENGINE.on_line("+ /: The anti-clickjacking X-Frame-Options header is not present.")
    assert newer.data["location"] == "/"


@pytest.mark.parametrize("line", [
    "+ Target IP:          127.0.0.1", "+ Server: Apache-Coyote/1.1", "+ Start Time:         2020-11-16",
    "- Nikto v2.1.5", "+ 1 host(s) tested", "",
])
def test_on_line_ignores_other_lines(line: str) -> None:
    assert ENGINE.on_line(line) == []


def _result(stdout: str, stderr: str = "", returncode: int = 0) -> ProcessResult:
    return ProcessResult(argv=["nikto"], returncode=returncode, duration_s=1.0, stdout_tail=stdout,
                         stderr_tail=stderr)


def test_no_host_tested_is_a_problem(tmp_path: Path) -> None:
    stdout = "- Nikto v2.1.6\n---\n+ 0 host(s) tested\n"
    stderr = "+ ERROR: Cannot resolve hostname 'x'\n"
    assert ENGINE.problems(job(tmp_path), _result(stdout, stderr)) == [
        "nikto tested no host (could not connect to the target): Cannot resolve hostname 'x'"]


def test_a_missing_report_is_a_problem(tmp_path: Path) -> None:
    assert ENGINE.problems(job(tmp_path), _result("+ 1 host(s) tested\n")) == ["nikto wrote no XML report"]
    with pytest.raises(EngineFailed, match="no XML report"):
        ENGINE.parse(job(tmp_path))


def test_parse_reads_the_report_where_nikto_writes_it(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "dd_nikto-output.xml", tmp_path / "nikto.xml")
    assert ENGINE.problems(job(tmp_path), _result("+ 1 host(s) tested\n", returncode=1)) == []
    records = list(ENGINE.parse(job(tmp_path)))
    assert records[:2] == [HostRecord(ip="127.0.0.1", hostname="localhost"),
                           ServiceRecord(host="127.0.0.1", port=8070, service="http")]
    findings = [record for record in records if isinstance(record, FindingRecord)]
    assert len(findings) == 13 and {finding.engine for finding in findings} == {"nikto"}
    assert findings[0].title == "The anti-clickjacking X-Frame-Options header is not present."


def test_a_missing_nikto_is_unavailable_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(EngineUnavailable, match="nikto is not installed"):
        run_engine(ENGINE, job(tmp_path, binary="nikto"))
