"""The one interface every engine implements.

An engine knows its name, category, compatible target types (seed 002's table), its option schema, how to
build its argument list from validated options, how to read its live output into progress events, and how
to parse its result files into records. It never sees a request or a model: the scans services hand it an
EngineJob and store what it yields.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from engines.options import OptionSchema
from engines.process import ProcessResult
from engines.records import Record


@dataclass(frozen=True)
class EngineJob:
    target: str  # normalised target value (name, IP, CIDR, URL, image)
    target_type: str
    address: str | None  # the address the tool must use instead of resolving `target` (None: may resolve)
    options: dict[str, Any]
    workdir: Path
    timeout_s: float
    binary: str
    excluded_ports: str = ""  # never scanned, whatever the options say ("2024")

    @property
    def network_target(self) -> str:
        """What goes on the command line as the host: the pinned address when there is one."""
        if self.target_type == "url":
            return self.network_url
        return self.address or self.target

    @property
    def network_url(self) -> str:
        """The URL target with its host replaced by the pinned address (so the tool never resolves it)."""
        if not self.address or self.target_type != "url":
            return self.target
        parts = urlsplit(self.target)
        host = f"[{self.address}]" if ":" in self.address else self.address
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class LiveEvent:
    """Something the tool said while running: kind is progress, host_found, port_found or finding_found."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


class Engine(abc.ABC):
    name: ClassVar[str]
    binary_name: ClassVar[str] = ""  # the executable to look up; defaults to `name`
    category: ClassVar[str]
    description: ClassVar[str] = ""
    target_types: ClassVar[frozenset[str]]
    schema: ClassVar[OptionSchema]
    default_timeout_s: ClassVar[int] = 3600
    # True when validate_options allows settings only on targets the tenant marked non-production: only then
    # does a submission look the target's asset up (one query the other engines' submissions skip).
    production_gated: ClassVar[bool] = False
    ok_exit_codes: ClassVar[frozenset[int]] = frozenset({0})

    def validate_options(self, raw: Any, *, target_type: str, non_production: bool = False) -> dict[str, Any]:
        """Schema validation plus the engine's cross-option rules. Raises OptionTypeError.
        `non_production` is true only for targets the tenant marked as isolated test systems; engines allow
        their most aggressive settings only then (seed 002: sqlmap level > 3 or risk > 2)."""
        return self.schema.validate(raw)

    @abc.abstractmethod
    def build_argv(self, job: EngineJob) -> list[str]:
        """The full argument list (binary first). Only validated values reach it; never a shell."""

    def needs_privileges(self, options: dict[str, Any]) -> bool:
        """True when these options need raw sockets (the tool then keeps the worker's privileges)."""
        return False

    def version_argv(self, binary: str) -> list[str]:
        return [binary, "--version"]

    def on_line(self, line: str) -> list[LiveEvent]:
        """Live events from one line of the tool's standard output."""
        return []

    @abc.abstractmethod
    def parse(self, job: EngineJob) -> Iterator[Record]:
        """Records from the tool's result files in job.workdir. Raises engines.errors.ParseError."""

    def problems(self, job: EngineJob, result: "ProcessResult") -> list[str]:
        """Reasons the run failed although the exit code says otherwise (a tool that exits 0 when it could
        not connect). A non-empty list fails the step with these reasons."""
        return []

    @property
    def executable(self) -> str:
        return self.binary_name or self.name
