"""The benchmark's server process ends with the benchmark, however the benchmark ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.server import stopped_with_parent

# A stand-in server: reports SIGINT (what `samesay serve` shuts down on) in a file, then exits.
_SERVER = """\
import signal, sys, time
def stop(*_):
    open(sys.argv[1], "w").write("SIGINT")
    sys.exit(0)
signal.signal(signal.SIGINT, stop)
print("ready", flush=True)
time.sleep(60)
"""

# A stand-in benchmark: starts the server the way bench.server does, prints its pid, waits.
_BENCH = """\
import subprocess, sys, time
from bench.server import stopped_with_parent
server = subprocess.Popen(stopped_with_parent(["-c", sys.argv[1], sys.argv[2]]),
                          stdout=subprocess.PIPE, text=True)
server.stdout.readline()
print(server.pid, flush=True)
time.sleep(60)
"""


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # Still in the table: a zombie (its parent died, init reaps it soon) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG)")
def test_server_gets_sigint_when_the_benchmark_is_killed(tmp_path: Path) -> None:
    stopped = tmp_path / "stopped"
    bench = subprocess.Popen(
        [sys.executable, "-c", _BENCH, _SERVER, str(stopped)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    server_pid = 0
    try:
        server_pid = int(bench.stdout.readline())
        bench.send_signal(signal.SIGKILL)  # no cleanup of its own can run
        bench.wait(timeout=10)
        deadline = time.monotonic() + 10
        while not (stopped.exists() and _gone(server_pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stopped.read_text() == "SIGINT"
        assert _gone(server_pid)
    finally:
        bench.kill()
        if server_pid and not _gone(server_pid):  # the failure being tested: no orphan left
            os.kill(server_pid, signal.SIGKILL)


def test_command_runs_the_module_arguments_under_this_python() -> None:
    command = stopped_with_parent(["-m", "cli.main", "serve"])
    assert command[0] == sys.executable
    assert command[-3:] == ["-m", "cli.main", "serve"]
    done = subprocess.run(
        stopped_with_parent(["-c", "print('hello')"]), capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0 and done.stdout == "hello\n"
