"""The one subprocess runner: argument lists only, a timeout, cancellation, a process-group kill,
resource limits, an output cap, and live lines handed to a callback.

The tool runs in its own session (process group), so killing the group takes every child with it. When
the worker runs as root and the engine needs no raw sockets, the tool runs as `nobody` through setpriv;
CPU time, address space, open files and file size are capped through prlimit (both from util-linux).
"""

from __future__ import annotations

import errno
import os
import re
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engines.errors import EngineCancelled, EngineFailed, EngineTimedOut, EngineUnavailable

NOBODY_UID = 65534
TAIL_BYTES = 4000
KILL_GRACE_S = 3.0


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int
    memory_bytes: int
    open_files: int
    output_bytes: int


@dataclass(frozen=True)
class ProcessResult:
    argv: list[str]
    returncode: int
    duration_s: float
    stdout_tail: str
    stderr_tail: str


def engine_env(workdir: Path) -> dict[str, str]:
    """A minimal environment: no Django secrets, no proxies, a private HOME."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(workdir),
            "TMPDIR": str(workdir)}


def wrap_argv(argv: list[str], *, limits: Limits, unprivileged: bool) -> list[str]:
    """setpriv (tool dies with its worker; drops to nobody when it may) + prlimit (resource caps) + argv."""
    prefix: list[str] = []
    if shutil.which("setpriv"):
        # --pdeathsig: a worker killed with SIGKILL takes its tool with it instead of leaving it running.
        prefix += ["setpriv", "--pdeathsig=KILL"]
        if unprivileged and os.geteuid() == 0:
            prefix += [f"--reuid={NOBODY_UID}", f"--regid={NOBODY_UID}", "--clear-groups", "--inh-caps=-all"]
        prefix.append("--")
    if shutil.which("prlimit"):
        prefix += ["prlimit", f"--cpu={limits.cpu_seconds}", f"--as={limits.memory_bytes}",
                   f"--nofile={limits.open_files}", f"--fsize={limits.output_bytes}", "--"]
    return prefix + argv


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the whole group, a short grace, then SIGKILL; reaps the child."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _tail(path: Path) -> str:
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - TAIL_BYTES))
        return handle.read().decode("utf-8", "replace")


def run_argv(
    argv: list[str],
    *,
    workdir: Path,
    timeout_s: float,
    limits: Limits,
    should_cancel: Callable[[], bool],
    on_line: Callable[[str], None],
    unprivileged: bool = True,
    cancel_poll_s: float = 0.5,
) -> ProcessResult:
    """Run argv to completion. Raises EngineUnavailable, EngineTimedOut, EngineCancelled or EngineFailed
    (output cap). The tool's stdout is streamed to `on_line` and kept in workdir/stdout.log."""
    if shutil.which(argv[0]) is None:
        raise EngineUnavailable(f"{argv[0]} is not installed on this worker")
    if unprivileged and os.geteuid() == 0:
        os.chown(workdir, NOBODY_UID, NOBODY_UID)
    started = time.monotonic()
    deadline = started + timeout_s
    stdout_path, stderr_path = workdir / "stdout.log", workdir / "stderr.log"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen(
            wrap_argv(argv, limits=limits, unprivileged=unprivileged), cwd=workdir, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=engine_env(workdir), start_new_session=True,
        )
        try:
            _pump(proc, {proc.stdout: out, proc.stderr: err}, deadline, limits, should_cancel, on_line,
                  cancel_poll_s, argv[0], timeout_s)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise EngineFailed(f"no space left on the device for {argv[0]}'s output in {workdir}") from None
            raise
        finally:
            if proc.poll() is None:
                kill_group(proc)
            else:
                _reap_group(proc)
    return ProcessResult(argv=argv, returncode=proc.returncode, duration_s=time.monotonic() - started,
                         stdout_tail=_tail(stdout_path), stderr_tail=_tail(stderr_path))


def _reap_group(proc: subprocess.Popen[bytes]) -> None:
    """The tool exited; anything it left behind in its group goes too."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
MAX_LINE_BYTES = 64 * 1024


def _pump(proc, sinks, deadline, limits, should_cancel, on_line, cancel_poll_s, tool, timeout_s):
    """Copy the tool's stdout and stderr into their logs and hand every line of either to on_line (tools
    print progress on stderr, and redraw it with a bare carriage return), until both pipes close."""
    selector = selectors.DefaultSelector()
    buffers: dict[int, bytes] = {}
    for pipe in sinks:
        selector.register(pipe, selectors.EVENT_READ)
        buffers[pipe.fileno()] = b""
    written = 0
    next_cancel_check = 0.0
    while selector.get_map():
        now = time.monotonic()
        if now >= deadline:
            raise EngineTimedOut(f"{tool} ran past its timeout of {timeout_s:g} s and was stopped")
        if now >= next_cancel_check:
            next_cancel_check = now + cancel_poll_s
            if should_cancel():
                raise EngineCancelled(f"{tool} was stopped because the scan was cancelled")
        for key, _ in selector.select(timeout=min(0.2, max(0.0, deadline - now))):
            fd = key.fileobj.fileno()
            chunk = os.read(fd, 65536)
            if not chunk:
                selector.unregister(key.fileobj)
                if buffers[fd]:
                    on_line(buffers[fd].decode("utf-8", "replace"))
                continue
            sinks[key.fileobj].write(chunk)
            written += len(chunk)
            if written > limits.output_bytes:
                raise EngineFailed(f"{tool} printed more than {limits.output_bytes} bytes and was stopped")
            *lines, rest = _LINE_BREAK.split(buffers[fd] + chunk)
            while len(rest) > MAX_LINE_BYTES:
                # An endless line (no newline at all) would make every read re-copy a growing buffer:
                # hand it over in bounded pieces, keeping the work linear.
                lines.append(rest[:MAX_LINE_BYTES])
                rest = rest[MAX_LINE_BYTES:]
            buffers[fd] = rest
            for line in lines:
                if line:
                    on_line(line.decode("utf-8", "replace"))
    selector.close()
    proc.wait()
