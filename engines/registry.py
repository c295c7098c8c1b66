"""The explicit engine registry: name → class path. No directory scanning; a test instantiates each entry."""

from __future__ import annotations

from functools import cache

from django.utils.module_loading import import_string

from engines.base import Engine

ENGINES: dict[str, str] = {
    "nmap": "engines.nmap.engine.NmapEngine",
    "masscan": "engines.masscan.engine.MasscanEngine",
    "zap": "engines.zap.engine.ZapEngine",
    "trivy": "engines.trivy.engine.TrivyEngine",
    "nuclei": "engines.nuclei.engine.NucleiEngine",
    "nikto": "engines.nikto.engine.NiktoEngine",
    "sqlmap": "engines.sqlmap.engine.SqlmapEngine",
    "wapiti": "engines.wapiti.engine.WapitiEngine",
    "harvester": "engines.harvester.engine.HarvesterEngine",
    "sublist3r": "engines.sublist3r.engine.Sublist3rEngine",
    "sslyze": "engines.sslyze.engine.SslyzeEngine",
    "sslscan": "engines.sslscan.engine.SslscanEngine",
    "testssl": "engines.testssl.engine.TestsslEngine",
}


class UnknownEngine(KeyError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown engine {self.name!r}; known engines: {', '.join(sorted(ENGINES))}"


@cache
def get_engine(name: str) -> Engine:
    if name not in ENGINES:
        raise UnknownEngine(name)
    return import_string(ENGINES[name])()


def all_engines() -> list[Engine]:
    return [get_engine(name) for name in ENGINES]
