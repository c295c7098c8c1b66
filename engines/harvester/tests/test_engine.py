"""HarvesterEngine without theHarvester (it cannot be installed here): seed 002's options, hostile values,
exact command lines, parsing, hidden failures and the "not installed" answer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engines.base import EngineJob
from engines.errors import EngineFailed, EngineUnavailable
from engines.harvester.engine import PUBLIC_SOURCES, SOURCES, HarvesterEngine
from engines.options import OptionTypeError
from engines.process import ProcessResult
from engines.records import AssetRecord, HostRecord
from engines.runner import run_engine

FIXTURES = Path(__file__).parent / "fixtures"
ENGINE = HarvesterEngine()
DEFAULTS = {"sources": list(PUBLIC_SOURCES), "limit": 200, "dnsLookup": False, "dnsBrute": False}


def job(tmp_path: Path, options: dict | None = None, binary: str = "/opt/theHarvester",
        address: str | None = None) -> EngineJob:
    validated = ENGINE.validate_options(options or {}, target_type="domain")
    return EngineJob(target="example.com", target_type="domain", address=address, options=validated,
                     workdir=tmp_path, timeout_s=600, binary=binary)


def test_identity_and_target_types() -> None:
    assert (ENGINE.name, ENGINE.executable, ENGINE.category) == ("harvester", "theHarvester", "osint")
    assert ENGINE.target_types == {"domain"}


def test_every_seed_option_with_its_default() -> None:
    assert ENGINE.schema.names() == ["sources", "limit", "dnsLookup", "dnsBrute"]
    assert ENGINE.validate_options({}, target_type="domain") == DEFAULTS
    assert {"crtsh", "shodan", "linkedin"} <= set(SOURCES)
    assert "shodan" not in PUBLIC_SOURCES  # needs an API key: not in "all public"


def test_retired_sources_of_the_seed_example_are_accepted_and_left_off_the_command(tmp_path) -> None:
    from engines.base import EngineJob

    options = ENGINE.validate_options({"sources": ["google", "bing", "crtsh"]}, target_type="domain")
    job = EngineJob(target="example.com", target_type="domain", address=None, options=options, workdir=tmp_path,
                    timeout_s=60, binary="theHarvester")
    argv = ENGINE.build_argv(job)
    assert argv[argv.index("-b") + 1] == "crtsh"
    only_retired = ENGINE.validate_options({"sources": ["google"]}, target_type="domain")
    job = EngineJob(target="example.com", target_type="domain", address=None, options=only_retired,
                    workdir=tmp_path, timeout_s=60, binary="theHarvester")
    argv = ENGINE.build_argv(job)
    assert argv[argv.index("-b") + 1].split(",") == list(PUBLIC_SOURCES)


def test_unknown_sources_are_refused() -> None:
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options({"sources": ["crtsh", "altavista"]}, target_type="domain")
    assert caught.value.option == "sources[1]"


@pytest.mark.parametrize(("raw", "option"), [
    ({"bogus": 1}, "bogus"),
    ({"sources": "crtsh"}, "sources"),
    ({"sources": []}, "sources"),
    ({"sources": ["CRTSH"]}, "sources[0]"),
    ({"sources": ["all"]}, "sources[0]"),
    ({"limit": "200"}, "limit"),
    ({"limit": 0}, "limit"),
    ({"limit": 5001}, "limit"),
    ({"limit": 1.5}, "limit"),
    ({"dnsLookup": "true"}, "dnsLookup"),
    ({"dnsBrute": 1}, "dnsBrute"),
])
def test_unknown_wrong_type_or_out_of_range_names_the_option(raw: dict, option: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options(raw, target_type="domain")
    assert caught.value.option == option


@pytest.mark.parametrize("value", ["-f /tmp/x", "--filename=/tmp/x", "crtsh;id", "$(id)", "`id`", "crtsh\n",
                                   "crtsh\x00", "crtsh,otx", "../crtsh", "/etc/passwd", "-b"])
def test_hostile_sources_are_refused_before_any_argv_exists(value: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options({"sources": ["crtsh", value]}, target_type="domain")
    assert caught.value.option == "sources[1]"


def test_default_argv(tmp_path: Path) -> None:
    assert ENGINE.build_argv(job(tmp_path)) == [
        "/opt/theHarvester", "-d", "example.com", "-b", ",".join(PUBLIC_SOURCES), "-l", "200",
        "-f", str(tmp_path / "harvester")]


def test_all_options_argv(tmp_path: Path) -> None:
    options = {"sources": ["crtsh", "otx", "crtsh"], "limit": 500, "dnsLookup": True, "dnsBrute": True}
    assert ENGINE.build_argv(job(tmp_path, options)) == [
        "/opt/theHarvester", "-d", "example.com", "-b", "crtsh,otx", "-l", "500", "-n", "-c",
        "-f", str(tmp_path / "harvester")]


def test_a_pinned_address_is_not_the_search_term(tmp_path: Path) -> None:
    argv = ENGINE.build_argv(job(tmp_path, address="192.0.2.1"))
    assert argv[1:3] == ["-d", "example.com"] and "192.0.2.1" not in argv


def test_run_engine_says_theharvester_is_not_installed(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="theHarvester is not installed"):
        run_engine(ENGINE, job(tmp_path, binary="theHarvester"))


def test_parse_reads_the_json_report_the_engine_asks_for(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "voraguard_thekamababa.json", tmp_path / "harvester.json")
    records = list(ENGINE.parse(job(tmp_path)))
    assert [type(record) for record in records] == [AssetRecord, HostRecord]


def test_parse_falls_back_to_the_xml_report(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "voraguard_thekamababa.xml", tmp_path / "harvester.xml")
    assert [type(record) for record in ENGINE.parse(job(tmp_path))] == [AssetRecord, HostRecord]
    (tmp_path / "harvester.xml").unlink()
    with pytest.raises(EngineFailed, match="wrote no report"):
        ENGINE.parse(job(tmp_path))


def test_problems_hidden_behind_exit_0(tmp_path: Path) -> None:
    scan = job(tmp_path)
    refused = ProcessResult(argv=[], returncode=0, duration_s=1, stdout_tail="[!] Invalid source.\n",
                            stderr_tail="")
    assert ENGINE.problems(scan, refused) == ["theHarvester refused the source list"]
    silent = ProcessResult(argv=[], returncode=0, duration_s=1, stdout_tail="", stderr_tail="")
    assert ENGINE.problems(scan, silent) == ["theHarvester exited 0 but wrote no report"]
    shutil.copy(FIXTURES / "voraguard_scanme.nmap.json", tmp_path / "harvester.json")
    assert ENGINE.problems(scan, silent) == []
