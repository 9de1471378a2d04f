"""`samesay bench store`: durable write throughput and poller read costs, printed as numbers."""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from store.entries import FaqDraft
from store.faq_store import FaqStore


def run_store_bench(url: str | None, *, entries: int = 2000, threads: int = 4) -> None:
    with tempfile.TemporaryDirectory(prefix="samesay-bench-") as tmp:
        store = FaqStore(url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            print(f"backend: {store.dialect}; entries per phase: {entries}; threads: {threads}")
            _bench_writes(store, entries, threads)
            _bench_reads(store)
        finally:
            store.close()


def _drafts(n: int, tag: str) -> list[FaqDraft]:
    return [
        FaqDraft(
            f"{tag} question {i}?", f"answer {i}. " * 20, [f"{tag} alt {i} {j}" for j in range(3)]
        )
        for i in range(n)
    ]


def _rate(label: str, count: int, seconds: float, unit: str) -> None:
    print(f"{label:<44} {count / seconds:>10,.0f} {unit}/s   ({count} in {seconds:.2f} s)")


def _bench_writes(store: FaqStore, entries: int, threads: int) -> None:
    singles = _drafts(max(entries // 10, 10), "single")
    start = time.perf_counter()
    for draft in singles:
        store.add([draft])
    _rate("add, one entry per transaction", len(singles), time.perf_counter() - start, "commits")

    batched = _drafts(entries, "batch")
    start = time.perf_counter()
    for first in range(0, len(batched), 100):
        store.add(batched[first : first + 100])
    _rate("add, 100 entries per transaction", len(batched), time.perf_counter() - start, "entries")

    start = time.perf_counter()
    store.add(_drafts(entries, "bulk"))
    _rate(f"add, {entries} entries in one transaction", entries, time.perf_counter() - start,
          "entries")

    per_thread = max(entries // 10 // threads, 5)

    def work(seed: int) -> None:
        for draft in _drafts(per_thread, f"thread{seed}"):
            store.add([draft])

    workers = [threading.Thread(target=work, args=(seed,)) for seed in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    _rate(f"add, one per transaction, {threads} threads", per_thread * threads,
          time.perf_counter() - start, "commits")


def _bench_reads(store: FaqStore) -> None:
    revision = store.revision()
    total = store.count()
    start = time.perf_counter()
    changes = store.changes_since(0)
    print(f"{'changes_since(0) (full catch-up)':<44} {time.perf_counter() - start:>10.3f} s "
          f"for {len(changes.upserted)} of {total} entries")
    for label, call in (
        ("versions() (poller, nothing new)", store.versions),
        ("changes_since(revision - 1)", lambda: store.changes_since(revision - 1)),
        ("get(id)", lambda: store.get(changes.upserted[-1].id)),
    ):
        p50, p99 = _latency(call)
        print(f"{label:<44} p50 {p50 * 1e3:7.3f} ms   p99 {p99 * 1e3:7.3f} ms")


def _latency(call: Callable[[], object], repeats: int = 300) -> tuple[float, float]:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]
