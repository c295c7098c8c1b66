"""One engine step, end to end: build the argument list, run it under the process runner, judge the exit
code and the tool's own problem reports, and parse the result files. The worker and the live engine tests
both go through here, so a test exercises exactly what a scan runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engines.base import Engine, EngineJob, LiveEvent
from engines.errors import EngineFailed
from engines.process import Limits, ProcessResult, run_argv
from engines.records import Record

DEFAULT_LIMITS = Limits(cpu_seconds=3600, memory_bytes=2 * 1024**3, open_files=4096, output_bytes=256 * 1024**2)


@dataclass(frozen=True)
class StepResult:
    process: ProcessResult
    records: list[Record]


def run_engine(
    engine: Engine,
    job: EngineJob,
    *,
    should_cancel: Callable[[], bool] = lambda: False,
    on_event: Callable[[LiveEvent], None] = lambda event: None,
    limits: Limits = DEFAULT_LIMITS,
    cancel_poll_s: float = 0.5,
) -> StepResult:
    """Run one engine job to parsed records. Raises EngineUnavailable, EngineTimedOut, EngineCancelled,
    EngineFailed (exit code, problems, output cap) or ParseError."""

    def on_line(line: str) -> None:
        for event in engine.on_line(line):
            on_event(event)

    process = run_argv(engine.build_argv(job), workdir=job.workdir, timeout_s=job.timeout_s, limits=limits,
                       should_cancel=should_cancel, on_line=on_line,
                       unprivileged=not engine.needs_privileges(job.options), cancel_poll_s=cancel_poll_s)
    if process.returncode not in engine.ok_exit_codes:
        tail = [line for line in process.stderr_tail.strip().splitlines() if line.strip()][-3:]
        raise EngineFailed(f"{engine.name} exited with code {process.returncode}: {' | '.join(tail)}")
    problems = engine.problems(job, process)
    if problems:
        raise EngineFailed(f"{engine.name}: {'; '.join(problems)}")
    try:
        return StepResult(process=process, records=list(engine.parse(job)))
    except OSError as exc:
        raise EngineFailed(f"{engine.name}'s report could not be read: {exc.strerror}") from None
