"""The one subprocess runner: streaming, timeout, cancellation, process-group kill, caps, privileges."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engines.errors import EngineCancelled, EngineFailed, EngineTimedOut, EngineUnavailable
from engines.process import Limits, run_argv

LIMITS = Limits(cpu_seconds=60, memory_bytes=1024**3, open_files=256, output_bytes=10 * 1024**2)


def pids_matching(marker: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout.split()
    return [pid for pid in found if int(pid) != os.getpid()]


def run(argv, tmp_path, **kwargs):
    options = {"workdir": tmp_path, "timeout_s": 20, "limits": LIMITS, "should_cancel": lambda: False,
               "on_line": lambda line: None, "unprivileged": False, **kwargs}
    return run_argv(argv, **options)


def test_lines_are_streamed_as_the_tool_prints_them(tmp_path):
    seen: list[tuple[float, str]] = []
    started = time.monotonic()
    script = "import time\nprint('one', flush=True)\ntime.sleep(1)\nprint('two', flush=True)"
    result = run([sys.executable, "-c", script], tmp_path,
                 on_line=lambda line: seen.append((time.monotonic() - started, line)))
    assert [line for _, line in seen] == ["one", "two"]
    assert seen[0][0] < seen[1][0] - 0.5  # "one" arrived before the tool finished
    assert result.returncode == 0 and "two" in result.stdout_tail


def test_a_missing_tool_is_unavailable_and_says_which(tmp_path):
    with pytest.raises(EngineUnavailable, match="no-such-scanner is not installed"):
        run(["no-such-scanner", "--version"], tmp_path)


def test_timeout_kills_the_whole_process_group(tmp_path):
    marker = f"lantern-timeout-{tmp_path.name}"
    script = f"import subprocess,time; subprocess.Popen(['sleep','300','{marker}']); time.sleep(300)"
    started = time.monotonic()
    with pytest.raises(EngineTimedOut, match="timeout of 1 s"):
        run(["bash", "-c", f"exec {sys.executable} -c \"{script}\" {marker}"], tmp_path, timeout_s=1)
    assert time.monotonic() - started < 6
    assert pids_matching(marker) == []


def test_cancellation_stops_the_tool_within_the_poll_interval(tmp_path):
    marker = f"lantern-cancel-{tmp_path.name}"
    requested = time.monotonic() + 0.5
    with pytest.raises(EngineCancelled):
        run(["bash", "-c", f"sleep 300; echo {marker}"], tmp_path, cancel_poll_s=0.2,
            should_cancel=lambda: time.monotonic() > requested)
    assert time.monotonic() - requested < 2
    assert pids_matching(f"sleep 300; echo {marker}") == []


def test_output_beyond_the_cap_fails_the_step_with_the_reason(tmp_path):
    limits = Limits(cpu_seconds=60, memory_bytes=1024**3, open_files=256, output_bytes=200_000)
    with pytest.raises(EngineFailed, match="printed more than 200000 bytes"):
        run(["yes", "lantern"], tmp_path, limits=limits)


def test_resource_limits_apply_to_the_tool(tmp_path):
    result = run(["bash", "-c", "ulimit -n; ulimit -v"], tmp_path)
    assert result.stdout_tail.split() == ["256", str(1024**3 // 1024)]


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs a root worker")
def test_an_unprivileged_step_runs_as_nobody_with_no_capabilities(tmp_path):
    result = run(["bash", "-c", "id -u; grep CapEff /proc/self/status; touch out.txt && echo wrote"], tmp_path,
                 unprivileged=True)
    lines = result.stdout_tail.split("\n")
    assert lines[0] == "65534" and lines[1].split() == ["CapEff:", "0000000000000000"] and lines[2] == "wrote"


def test_the_tool_dies_with_its_parent(tmp_path):
    """A worker killed with SIGKILL must not leave its scanner running (setpriv --pdeathsig). This covers
    the tool process itself (nmap is one process); grandchildren of a forking tool are not covered."""
    marker = f"lantern-orphan-{tmp_path.name}"
    # The tool's argv travels in the environment so the marker is not in the parent's own command line.
    tool = [sys.executable, "-c", "import time; time.sleep(300)", marker]
    parent = subprocess.Popen([sys.executable, "-c", (
        "import json, os; from pathlib import Path; from engines.process import Limits, run_argv; "
        "run_argv(json.loads(os.environ['TOOL']), workdir=Path(os.environ['WORKDIR']), timeout_s=60, "
        "limits=Limits(60, 1024**3, 256, 10**6), should_cancel=lambda: False, on_line=print, unprivileged=False)"
    )], cwd=Path(__file__).resolve().parents[2], env={**os.environ, "TOOL": json.dumps(tool),
                                                     "WORKDIR": str(tmp_path)})
    deadline = time.monotonic() + 10
    while not pids_matching(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pids_matching(marker), "the tool never started"
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while pids_matching(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pids_matching(marker) == []


def test_stderr_lines_and_carriage_return_redraws_reach_on_line(tmp_path):
    seen: list[str] = []
    script = ("import sys, time\nsys.stderr.write('10%\\r20%\\r'); sys.stderr.flush()\n"
              "print('out', flush=True)\nsys.stderr.write('done\\n')")
    result = run([sys.executable, "-c", script], tmp_path, on_line=seen.append)
    assert sorted(seen) == sorted(["10%", "20%", "out", "done"])
    assert "done" in result.stderr_tail and "out" in result.stdout_tail


def test_an_endless_line_is_handed_over_in_bounded_pieces(tmp_path):
    """A tool printing 8 MB with no newline: every byte arrives, in pieces no larger than the bound, so the
    line buffer never grows (growing it made each read re-copy it: minutes for a gigabyte)."""
    from engines.process import MAX_LINE_BYTES

    sizes: list[int] = []
    run(["bash", "-c", "head -c 8388608 /dev/zero | tr '\\0' 'x'"], tmp_path,
        on_line=lambda line: sizes.append(len(line)))
    assert sum(sizes) == 8388608 and max(sizes) == MAX_LINE_BYTES
