"""`samesay bench service`: start the real server, load N FAQs, drive /ask over loopback.

Phases, all against 127.0.0.1 only, every loop bounded in count and in time:
  (a) one client, sequential /ask: latency p50/p99 (targets 3 ms / 10 ms);
  (b) 32 concurrent clients for a fixed duration: answered /ask per second, errors
      (targets >= 1,000/s on 2 cores, 0 errors);
  (c) (b) again with the server's encoder swapped for all-MiniLM-L6-v2 (same FAQs, same
      questions) and the throughput ratio GRU / MiniLM.
The load comes from `wrk` (C, one thread) when installed, so the client does not take the
server's CPU; otherwise from an asyncio client on raw sockets (stdlib only).
"""


from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.config import TARGETS, BenchConfig, BenchError
from bench.corpus import FaqCorpus, build_corpus
from bench.load import LoadResult, ask_bodies, check_answers, run_load
from bench.server import ServerProcess, load_faqs, request_json, server_kind, start_server


@dataclass
class EncoderRun:
    encoder: str
    start_s: float
    index_size: int | None
    index_kind: str | None
    sanity: dict[str, float]
    latency: LoadResult | None
    throughput: LoadResult | None


def measure(
    config: BenchConfig,
    server: ServerProcess,
    corpus: FaqCorpus,
    tool: str,
    work_dir: Path,
    latency: bool,
) -> tuple[LoadResult | None, LoadResult]:
    bodies = ask_bodies(corpus, config.top_k)
    pid = server.process.pid

    def load(connections: int, seconds: float, max_requests: int) -> LoadResult:
        cpu_before = process_tree_cpu_s(pid)
        result = run_load(tool, server.port, bodies, connections, seconds, max_requests, work_dir)
        cpu_after = process_tree_cpu_s(pid)
        ok = result.requests - result.errors
        if cpu_before is not None and cpu_after is not None and ok > 0:
            result.server_cpu_ms_per_request = (cpu_after - cpu_before) * 1000 / ok
        return result

    load(config.concurrency, config.warmup_seconds, 10**6)
    single = None
    if latency:
        print(f"  (a) 1 client, {config.latency_seconds:.0f} s ...", flush=True)
        single = load(1, config.latency_seconds, config.latency_requests)
    print(f"  (b) {config.concurrency} clients, {config.load_seconds:.0f} s ...", flush=True)
    many = load(config.concurrency, config.load_seconds, 10**7)
    return single, many


def process_tree_cpu_s(root_pid: int) -> float | None:
    """User + system CPU seconds of a process and its descendants (Linux /proc; else None)."""
    proc = Path("/proc")
    if not (proc / str(root_pid) / "stat").exists():
        return None
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for stat in proc.glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces: fields are read after its closing ')'.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    tree = {root_pid}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                changed = True
    return sum(cpu.get(pid, 0.0) for pid in tree)


def run_encoder(
    config: BenchConfig,
    encoder: str,
    data_dir: Path,
    corpus: FaqCorpus,
    tool: str,
    work_dir: Path,
    load: bool,
) -> EncoderRun:
    print(f"== {encoder}: starting the server (data dir {data_dir})", flush=True)
    started = time.perf_counter()
    server = start_server(config, data_dir, encoder, work_dir / f"server-{encoder}.log")
    start_s = time.perf_counter() - started
    try:
        if load:
            seconds = load_faqs(server, corpus)
            print(f"  {len(corpus.items):,} FAQs loaded in {seconds:.1f} s", flush=True)
        ready = wait_index_settled(server, expected=len(corpus.items) if load else None)
        index_size = ready.get("index_size")
        print(f"  index: {index_size} entries, {ready.get('index_kind')}", flush=True)
        sanity = check_answers(server.port, corpus)
        single, many = measure(config, server, corpus, tool, work_dir, latency=True)
    finally:
        server.stop()
    return EncoderRun(
        encoder, start_s, index_size, ready.get("index_kind"), sanity, single, many
    )


def wait_index_settled(
    server: ServerProcess, expected: int | None, timeout_s: float = 600.0, in_a_row: int = 20
) -> dict:
    """Wait until /readyz answers `in_a_row` times running with no background rebuild (a flat
    index growing into IVF) and, when `expected` is given, at least that many entries: each
    request is a new connection, so with several workers the answers come from all of them."""
    deadline = time.monotonic() + timeout_s
    settled = 0
    ready: dict = {}
    while settled < in_a_row:
        if time.monotonic() > deadline:
            raise BenchError(f"the index did not settle within {timeout_s:.0f} s: {ready}")
        _, answer = request_json(server.port, "GET", "/readyz", None)
        ready = answer if isinstance(answer, dict) else {}
        done = not ready.get("index_rebuilding") and (
            expected is None or (ready.get("index_size") or 0) >= expected
        )
        settled = settled + 1 if done else 0
        if not done:
            time.sleep(0.5)
    return ready


def choose_tool(requested: str) -> str:
    if requested == "python":
        return "python"
    if shutil.which("wrk"):
        return "wrk"
    if requested == "wrk":
        raise BenchError(
            "wrk is not installed (Debian: apt-get install wrk); try --load-tool python"
        )
    return "python"


def run(config: BenchConfig, out: Path | None) -> dict:
    tool = choose_tool(config.load_tool)
    corpus = build_corpus(config)
    print(
        f"FAQ set: {len(corpus.items):,} entries from {corpus.source}; "
        f"{len(corpus.questions):,} distinct questions; load tool: {tool}",
        flush=True,
    )
    runs: list[EncoderRun] = []
    minilm_error = None
    with tempfile.TemporaryDirectory(prefix="samesay-bench-") as temp:
        work_dir = Path(temp)
        data_dir = work_dir / "data"
        data_dir.mkdir()
        runs.append(run_encoder(config, "gru", data_dir, corpus, tool, work_dir, load=True))
        if config.minilm:
            # Same store (same FAQs): the searcher sees another encoder hash and re-embeds.
            try:
                runs.append(
                    run_encoder(config, "minilm", data_dir, corpus, tool, work_dir, load=False)
                )
            except BenchError as error:  # keep the GRU numbers; say why MiniLM is missing
                print(f"MiniLM run failed: {error}", file=sys.stderr)
                minilm_error = str(error)[:2000]
    report = make_report(config, corpus, tool, runs)
    if minilm_error:
        report["minilm_error"] = minilm_error
    print_table(report)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"JSON written to {out}")
    return report


def make_report(
    config: BenchConfig, corpus: FaqCorpus, tool: str, runs: Sequence[EncoderRun]
) -> dict:
    gru = runs[0]
    report: dict = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        "machine": {"cpus": os.cpu_count(), "loadavg_1m_at_end": os.getloadavg()[0]},
        "server": server_kind(config),
        "faq_source": corpus.source,
        "load_tool": tool,
        "targets": TARGETS,
        "runs": [asdict(r) for r in runs],
    }
    checks = {}
    if gru.latency is not None:
        checks["p50_ms"] = gru.latency.p50_ms <= TARGETS["p50_ms"]
        checks["p99_ms"] = gru.latency.p99_ms <= TARGETS["p99_ms"]
    if gru.throughput is not None:
        checks["throughput_rps"] = gru.throughput.rps >= TARGETS["throughput_rps"]
        checks["errors"] = gru.throughput.errors == 0
    report["targets_met"] = checks
    if len(runs) > 1 and runs[1].throughput and gru.throughput and runs[1].throughput.rps:
        report["throughput_ratio_gru_over_minilm"] = gru.throughput.rps / runs[1].throughput.rps
    return report


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def print_table(report: dict) -> None:
    header = (
        f"{'encoder':<8} {'phase':<14} {'requests':>9} {'req/s':>8} {'answered':>9} "
        f"{'errors':>6} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'max ms':>7} {'cpu ms/req':>10}"
    )
    print()
    print(header)
    print("-" * len(header))
    for run_ in report["runs"]:
        for phase in ("latency", "throughput"):
            r = run_[phase]
            if r is None:
                continue
            label = f"{r['connections']} client" + ("s" if r["connections"] > 1 else "")
            print(
                f"{run_['encoder']:<8} {label:<14} {r['requests']:>9,} {r['rps']:>8.0f} "
                f"{r['answered'] / max(1, r['requests']):>8.0%} {r['errors']:>6} "
                f"{r['p50_ms']:>7.2f} {r['p90_ms']:>7.2f} {r['p99_ms']:>7.2f} "
                f"{r['max_ms']:>7.1f} {_fmt(r['server_cpu_ms_per_request']):>10}"
            )
    print()
    for run_ in report["runs"]:
        for phase in ("latency", "throughput"):
            if run_[phase] and run_[phase]["error_detail"]:
                print(f"{run_['encoder']} {phase} errors: {run_[phase]['error_detail']}")
        print(
            f"{run_['encoder']}: ready after {run_['start_s']:.1f} s, index size "
            f"{run_['index_size']} ({run_['index_kind']}), sanity answered rate "
            f"{run_['sanity']['answered_rate']:.0%} of {run_['sanity']['checked']}"
        )
    if "throughput_ratio_gru_over_minilm" in report:
        print(f"throughput ratio GRU / MiniLM: {report['throughput_ratio_gru_over_minilm']:.1f}x")
    for name, ok in report["targets_met"].items():
        print(f"target {name} ({TARGETS[name]}): {'met' if ok else 'NOT met'}")
    print(
        f"machine: {report['machine']['cpus']} CPUs, load average "
        f"{report['machine']['loadavg_1m_at_end']:.2f} at the end (shared machines: noisy)"
    )


