"""`samesay bench soak`: /ask at 32 clients for minutes on end, each worker's memory sampled.

A leak or an unbounded cache shows as RSS that keeps climbing long after warm-up, which a
20-second benchmark never sees. The same server and FAQ set as `bench service` (its first
start, `--workers`), then back-to-back load chunks of `--chunk` seconds; after each chunk
the RSS of every worker process is read from /proc. Reported: req/s and errors per chunk,
and per worker the spread of RSS after warm-up ((max - min) / min; target ≤ 5 %), as a
table, JSON and a plot (soak.png: req/s and each worker's RSS against time).
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.config import BenchConfig, BenchError
from bench.corpus import build_corpus
from bench.load import ask_bodies, run_load
from bench.server import load_faqs, start_server
from bench.service import choose_tool, wait_index_settled

RSS_SPREAD_TARGET = 0.05


@dataclass(frozen=True)
class SoakConfig:
    minutes: float = 10.0
    chunk_seconds: float = 30.0
    # Chunks before this many seconds are warm-up: caches fill, the ask log reaches its
    # steady flush size, allocators settle.
    warmup_seconds: float = 60.0
    bench: BenchConfig = field(default_factory=lambda: BenchConfig(workers=2, minilm=False))


@dataclass
class Chunk:
    at_s: float  # seconds since the load started, at the end of the chunk
    requests: int
    errors: int
    rps: float
    p99_ms: float
    rss_mb: dict[str, float]  # worker pid -> resident set size


def worker_pids(server_pid: int) -> list[int]:
    """The serving processes: uvicorn's workers, or the server itself when it has none.

    multiprocessing's resource tracker is a child of the supervisor too, but serves nothing."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children")
    try:
        pids = [int(pid) for pid in children.read_text().split()]
    except OSError:
        pids = []
    workers = [pid for pid in pids if b"resource_tracker" not in _cmdline(pid)]
    return workers or [server_pid]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        return None
    return None


def rss_spread(chunks: list[Chunk], warmup_seconds: float) -> dict[str, float]:
    """Per worker, (max - min) / min of its RSS over the chunks after warm-up."""
    steady = [c for c in chunks if c.at_s > warmup_seconds] or chunks[-1:]
    spreads: dict[str, float] = {}
    for pid in {pid for c in steady for pid in c.rss_mb}:
        values = [c.rss_mb[pid] for c in steady if pid in c.rss_mb]
        spreads[pid] = (max(values) - min(values)) / min(values)
    return spreads


def run(config: SoakConfig, out_dir: Path) -> dict:
    if config.chunk_seconds <= 0 or config.minutes <= 0:
        raise BenchError("--minutes and --chunk must be positive")
    tool = choose_tool(config.bench.load_tool)
    corpus = build_corpus(config.bench)
    bodies = ask_bodies(corpus, config.bench.top_k)
    chunks: list[Chunk] = []
    with tempfile.TemporaryDirectory(prefix="samesay-soak-") as temp:
        work = Path(temp)
        (work / "data").mkdir()
        print(f"== starting the server ({corpus.source}; load tool {tool})", flush=True)
        server = start_server(config.bench, work / "data", "gru", work / "server.log")
        try:
            load_faqs(server, corpus)
            ready = wait_index_settled(server, expected=len(corpus.items))
            print(f"  index: {ready.get('index_size')} entries, {ready.get('index_kind')}")
            started = time.perf_counter()
            deadline = started + config.minutes * 60
            while time.perf_counter() < deadline:
                seconds = min(config.chunk_seconds, deadline - time.perf_counter())
                result = run_load(
                    tool, server.port, bodies, config.bench.concurrency, max(1.0, seconds),
                    10**9, work,
                )
                rss = {str(pid): rss_mb(pid) for pid in worker_pids(server.process.pid)}
                chunk = Chunk(
                    round(time.perf_counter() - started, 1), result.requests, result.errors,
                    result.rps, result.p99_ms,
                    {pid: round(mb, 1) for pid, mb in rss.items() if mb is not None},
                )
                chunks.append(chunk)
                memory = ", ".join(f"{mb:.0f}" for mb in chunk.rss_mb.values())
                print(
                    f"  {chunk.at_s:6.0f} s  {chunk.rps:7.0f} req/s  errors {chunk.errors}  "
                    f"p99 {chunk.p99_ms:6.1f} ms  RSS MB per worker: {memory}", flush=True,
                )
        finally:
            server.stop()
    report = make_report(config, tool, chunks)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "soak.json").write_text(json.dumps(report, indent=2) + "\n")
    plot(chunks, config.warmup_seconds, out_dir / "soak.png")
    print_summary(report)
    print(f"JSON and plot written to {out_dir}/soak.json, soak.png")
    return report


def make_report(config: SoakConfig, tool: str, chunks: list[Chunk]) -> dict:
    spreads = rss_spread(chunks, config.warmup_seconds)
    errors = sum(c.errors for c in chunks)
    requests = sum(c.requests for c in chunks)
    return {
        "config": {
            "minutes": config.minutes, "chunk_seconds": config.chunk_seconds,
            "warmup_seconds": config.warmup_seconds, "workers": config.bench.workers,
            "concurrency": config.bench.concurrency, "entries": config.bench.entries,
        },
        "load_tool": tool,
        "requests": requests,
        "errors": errors,
        "rss_spread_after_warmup": spreads,
        "targets_met": {
            "errors": errors == 0,
            "rss_flat": bool(spreads) and max(spreads.values()) <= RSS_SPREAD_TARGET,
        },
        "chunks": [asdict(c) for c in chunks],
    }


def print_summary(report: dict) -> None:
    spreads = report["rss_spread_after_warmup"]
    flat = ", ".join(f"{pid}: {s:.1%}" for pid, s in sorted(spreads.items()))
    print(
        f"\n{report['requests']:,} requests, {report['errors']} errors; RSS spread after "
        f"warm-up per worker: {flat or 'n/a'} (target ≤ {RSS_SPREAD_TARGET:.0%}); "
        f"targets met: {report['targets_met']}"
    )


def plot(chunks: list[Chunk], warmup_seconds: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    minutes = [c.at_s / 60 for c in chunks]
    top.plot(minutes, [c.rps for c in chunks], marker="o")
    top.set_ylabel("answered /ask per second")
    top.set_ylim(bottom=0)
    for number, pid in enumerate(sorted({pid for c in chunks for pid in c.rss_mb})):
        points = [(c.at_s / 60, c.rss_mb[pid]) for c in chunks if pid in c.rss_mb]
        bottom.plot(*zip(*points, strict=True), marker="o", label=f"worker {number + 1}")
    bottom.set_ylabel("RSS (MB)")
    bottom.set_xlabel("minutes under load")
    bottom.set_ylim(bottom=0)
    bottom.legend(loc="lower right")
    for axis in (top, bottom):
        axis.axvline(warmup_seconds / 60, color="grey", linestyle=":", label="end of warm-up")
        axis.grid(alpha=0.3)
    figure.suptitle("samesay bench soak: 32 clients, /ask")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
