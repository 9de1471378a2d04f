"""Settings of `samesay bench service`: what to load, how hard to drive it, the targets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"  # never anything else: this tool must not load a remote service
BENCH_KEY = "bench-service-key"  # the server is private to this run (temp data dir, loopback)
# Group TSVs mixed round-robin so the FAQ set has English and Chinese, intent-style and
# pair-style questions; any missing one is skipped.
GROUP_SETS = (
    "hwu64_en",
    "fin_cs_zh",
    "acid_en",
    "lcqmc_zh",
    "cmedqq_zh",
    "oppo_xiaobu_zh",
    "chinese_sts_zh",
)
TARGETS = {"p50_ms": 3.0, "p99_ms": 10.0, "throughput_rps": 1000.0, "errors": 0}


@dataclass(frozen=True)
class BenchConfig:
    # 10k entries is the size the targets are stated for.
    entries: int = 10_000
    # Alternates per FAQ: real help centres list a few ways to ask; each is one index vector.
    alternates: int = 2
    # Enough distinct questions that caching anything per question would not help.
    questions: int = 5_000
    latency_requests: int = 3_000
    latency_seconds: float = 20.0
    concurrency: int = 32
    load_seconds: float = 20.0
    # A little load first so lazy allocations and branch caches do not count.
    warmup_seconds: float = 3.0
    top_k: int = 5
    # Time to start (first start trains the default model; MiniLM re-embeds every entry).
    start_timeout_s: float = 900.0
    workers: int | None = None
    minilm: bool = True
    load_tool: str = "auto"  # auto | wrk | python
    # samesay = `samesay serve`; launcher = bench/serve_encoder.py (same app factory).
    server: str = "auto"  # auto | samesay | launcher
    # ../shared/data beside the checkout, as the README runs it from the checkout root.
    data_root: Path = Path("../shared/data")
    model_path: Path | None = None
    seed: int = 0




class BenchError(RuntimeError):
    """The benchmark could not run (server failed, bad configuration); message says why."""
