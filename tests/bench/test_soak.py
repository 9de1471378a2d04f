"""`samesay bench soak`'s own parts: worker discovery, RSS reading, the flatness check, plot.

The soak itself is minutes of load on the real server (docs/benchmarks.md); here its
measurements are checked on this process and on made-up chunks with known answers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.soak import Chunk, SoakConfig, make_report, plot, rss_mb, rss_spread, worker_pids


def _chunk(at_s: float, rss: dict[str, float], errors: int = 0) -> Chunk:
    return Chunk(at_s, requests=1000, errors=errors, rps=100.0, p99_ms=5.0, rss_mb=rss)


def test_workers_are_the_children_or_the_process_itself() -> None:
    assert worker_pids(os.getpid()) == [os.getpid()]
    assert rss_mb(os.getpid()) > 10  # this interpreter, with pytest loaded
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in worker_pids(os.getpid())
        assert rss_mb(child.pid) is not None
        tracker = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(30)  # resource_tracker"]
        )
        try:
            # Right after fork, /proc shows the parent's command line until exec.
            deadline = time.monotonic() + 10
            cmdline = Path(f"/proc/{tracker.pid}/cmdline")
            while b"resource_tracker" not in cmdline.read_bytes():
                assert time.monotonic() < deadline, "the child never exec'd"
                time.sleep(0.01)
            assert tracker.pid not in worker_pids(os.getpid())  # serves nothing: not sampled
        finally:
            tracker.kill()
            tracker.wait()
    finally:
        child.kill()
        child.wait()
    assert rss_mb(child.pid) is None  # gone: no sample rather than an error


def test_spread_counts_only_chunks_after_warm_up() -> None:
    chunks = [
        _chunk(30, {"1": 100.0, "2": 150.0}),  # warm-up: caches still filling
        _chunk(60, {"1": 200.0, "2": 200.0}),
        _chunk(90, {"1": 204.0, "2": 200.0}),
        _chunk(120, {"1": 202.0, "2": 230.0}),
    ]
    spreads = rss_spread(chunks, warmup_seconds=45)
    assert spreads == {"1": pytest.approx(0.02), "2": pytest.approx(0.15)}
    report = make_report(SoakConfig(warmup_seconds=45), "wrk", chunks)
    assert report["requests"] == 4000 and report["targets_met"]["errors"]
    assert not report["targets_met"]["rss_flat"]  # worker 2 grew 15 %


def test_errors_fail_the_soak_and_the_plot_is_written(tmp_path: Path) -> None:
    chunks = [_chunk(30 * i, {"7": 300.0 + i}, errors=int(i == 3)) for i in range(1, 6)]
    report = make_report(SoakConfig(warmup_seconds=30), "python", chunks)
    assert report["errors"] == 1 and not report["targets_met"]["errors"]
    assert report["targets_met"]["rss_flat"]  # 301 -> 305: 1.3 %
    plot(chunks, 30, tmp_path / "soak.png")
    assert (tmp_path / "soak.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_refuses_bad_sizes_before_starting_anything(capsys) -> None:
    from cli.main import main

    assert main(["bench", "soak", "--workers", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
