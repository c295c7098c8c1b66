"""trivy: vulnerabilities (CVEs), misconfigurations, exposed secrets and licences (seed 002's table).

Target types and the trivy sub-command each one runs:

* ``url`` -> ``trivy repo``: the URL of a git repository, cloned by trivy itself (with a pinned address the
  URL's host is replaced by it, see EngineJob.network_url).
* ``host`` and ``image`` -> ``trivy image``: a container image reference such as the seed's own example
  ``registry.example.com/myapp:latest``, pulled from its registry only (``--image-src remote``: a worker never
  talks to a local Docker or containerd socket). With a pinned address the registry host of the reference is
  replaced by it.
* ``path`` -> ``trivy fs``: a local folder. Internal only: it is not in ``target_types``, so the API refuses
  it; the report-import feature and the live tests use it.

trivy reaches for the internet on its own (version check, telemetry, its vulnerability DB, the Rego checks
bundle, the Java DB, package registries for dependency lookups). Every run carries the flags that turn each of
those off, so a scan touches nothing but its target; misconfiguration checks then come from the checks
embedded in the binary. The cache is a fresh folder inside the job's workdir, so nothing leaks between
tenants. The vulnerability scanner needs trivy's database in that cache; this machine cannot download it
(shared/ENGINES.md), so a ``vuln`` scan fails fast with a readable reason unless a database was provisioned.

trivy prints no percentage (its log goes to stderr and it has no progress bar for a scan), so ``on_line``
stays the base class's no-op. A trivy run that exits 0 without writing its report is a failure
(``problems``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from engines.base import Engine, EngineJob
from engines.errors import EngineFailed
from engines.options import Option, OptionSchema, OptionTypeError
from engines.process import ProcessResult
from engines.records import Record
from engines.trivy.parse import parse as parse_report

REPORT = "trivy.json"
CACHE = "trivy-cache"
SCANNERS = ("vuln", "misconfig", "secret", "license")
SEVERITIES = ("UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL")
OFFLINE_FLAGS = ("--skip-version-check", "--disable-telemetry", "--skip-db-update", "--skip-java-db-update",
                 "--skip-check-update", "--offline-scan", "--no-progress")
SUBCOMMANDS = {"url": "repo", "host": "image", "image": "image", "path": "fs"}

# One path or glob relative to the scanned root: no spaces, quotes or commas (trivy splits list flags on
# commas and reads them as CSV), nothing that starts with '-' or '/'.
_SKIP_ITEM = r"[A-Za-z0-9_.@+~*?\[\]-]+(?:/[A-Za-z0-9_.@+~*?\[\]-]+)*"


def check_relative_path(value: str) -> None:
    """Refuse what could step outside the scanned tree or be read as a flag (the schema has already refused
    control characters, NUL and a leading '-')."""
    if value.startswith(("/", "~")):
        raise ValueError(f"'{value}' must be relative to the scanned root")
    parts = PurePosixPath(value).parts
    if any(part == ".." for part in parts):
        raise ValueError(f"'{value}' must not contain '..'")
    if any(part.startswith("-") for part in parts):
        raise ValueError(f"'{value}' has a component that starts with '-'")


def check_relative_paths(items: list[str]) -> None:
    for item in items:
        check_relative_path(item)


SCHEMA = OptionSchema((
    Option("scanners", list, ["vuln"], "Scanners: vuln, misconfig, secret, license", choices=SCANNERS,
           max_items=len(SCANNERS)),
    Option("severity", list, ["CRITICAL", "HIGH", "MEDIUM"], "Report only these severities",
           choices=SEVERITIES, max_items=len(SEVERITIES)),
    Option("ignoreUnfixed", bool, False, "Skip vulnerabilities without an available fix"),
    Option("skipDirs", list, [], "Directories (or globs) to skip, relative to the scanned root",
           pattern=_SKIP_ITEM, check=check_relative_paths, max_items=64),
    Option("skipFiles", list, [], "Files (or globs) to skip, relative to the scanned root",
           pattern=_SKIP_ITEM, check=check_relative_paths, max_items=64),
))


class TrivyEngine(Engine):
    name = "trivy"
    category = "container"
    description = "Container images, git repositories and file trees: CVEs, misconfigurations, secrets."
    target_types = frozenset({"url", "host", "image"})
    schema = SCHEMA
    default_timeout_s = 1800

    def validate_options(self, raw: Any, *, target_type: str, non_production: bool = False) -> dict[str, Any]:
        options = self.schema.validate(raw)
        for key in ("scanners", "severity"):
            if not options[key]:
                raise OptionTypeError(key, "must name at least one value")
            options[key] = list(dict.fromkeys(options[key]))
        return options

    def build_argv(self, job: EngineJob) -> list[str]:
        options = job.options
        subcommand = SUBCOMMANDS.get(job.target_type)
        if subcommand is None:
            raise EngineFailed(f"trivy cannot scan a target of type {job.target_type!r}")
        cache = job.workdir / CACHE
        if "vuln" in options["scanners"] and not (cache / "db" / "trivy.db").is_file():
            raise EngineFailed("trivy's vulnerability database is not installed on this worker (it is "
                               "downloaded from an OCI registry this machine cannot reach); scan with "
                               "scanners misconfig, secret or license instead")
        argv = [job.binary, subcommand, "--scanners", ",".join(options["scanners"]),
                "--severity", ",".join(options["severity"]), "--format", "json",
                "--output", str(job.workdir / REPORT), "--cache-dir", str(cache), *OFFLINE_FLAGS,
                "--ignorefile", "", "--secret-config", "", "--timeout", f"{max(1, int(job.timeout_s))}s"]
        if subcommand == "image":
            argv += ["--image-src", "remote"]
        if options["ignoreUnfixed"]:
            argv.append("--ignore-unfixed")
        for item in options["skipDirs"]:
            argv += ["--skip-dirs", item]
        for item in options["skipFiles"]:
            argv += ["--skip-files", item]
        return [*argv, "--", self._target(job)]

    def _target(self, job: EngineJob) -> str:
        if job.target_type == "url":
            return job.network_url
        if job.target_type == "path":
            return job.target
        return pin_registry(job.target, job.address)

    def parse(self, job: EngineJob) -> Iterator[Record]:
        path = job.workdir / REPORT
        if not path.exists():
            raise EngineFailed("trivy wrote no JSON report")
        return parse_report(path)

    def problems(self, job: EngineJob, result: ProcessResult) -> list[str]:
        path = job.workdir / REPORT
        if not path.exists() or path.stat().st_size == 0:
            return [f"trivy exited 0 but wrote no report ({_last_error(result.stderr_tail)})"]
        return []


def pin_registry(reference: str, address: str | None) -> str:
    """Replace the registry host of an image reference by the pinned address, so trivy never resolves it.

    A reference names a registry when its first component has a dot or a port or is 'localhost'
    (``registry.example.com/app:1``, ``localhost:5000/app``); Docker Hub references (``nginx:latest``) have
    none and are left as they are.
    """
    if not address:
        return reference
    first, slash, rest = reference.partition("/")
    if not slash or not ("." in first or ":" in first or first == "localhost"):
        return reference
    port = first.partition("]:")[2] if first.startswith("[") else first.partition(":")[2]
    pinned = f"[{address}]" if _is_ipv6(address) else address
    return f"{pinned}:{port}/{rest}" if port else f"{pinned}/{rest}"


def _is_ipv6(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 6
    except ValueError:
        return False


_LOG_ERROR = re.compile(r"\b(?:FATAL|ERROR)\b\s*(.*)")


def _last_error(stderr: str) -> str:
    """The last FATAL/ERROR line trivy logged, else a plain note: the reason a user can act on."""
    matches = [match.group(1).strip() for match in _LOG_ERROR.finditer(stderr)]
    return matches[-1][:300] if matches else "no error was logged"
