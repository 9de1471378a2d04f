"""`samesay bench index`: build time, memory, single-query latency and IVF recall, printed.

The vectors are synthetic but shaped like sentence embeddings: a shared mean direction (real
encoders are anisotropic), topic clusters of very uneven size, and queries that are noisy
copies of stored vectors (paraphrases). One vector per entry, so entries = vectors.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import time
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from index.faq_index import FaqIndex, IndexConfig, set_threads


@dataclass(frozen=True)
class BenchConfig:
    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    # The encoder's default output size; pass --dim to match another checkpoint.
    dim: int = 256
    # Enough single queries for a stable p99 without making the 1M flat run take minutes.
    queries: int = 300
    k: int = 10
    nprobes: tuple[int, ...] = (8, 16, 32, 64)
    # Same default as Settings.faiss_threads: single queries are fastest on one thread.
    threads: int = 1
    seed: int = 0


@dataclass(frozen=True)
class KindResult:
    size: int
    kind: str
    nprobe: int
    build_s: float
    rss_mb: float
    p50_ms: float
    p99_ms: float
    recall_at_k: float


def clustered_unit_vectors(
    n: int, dim: int, rng: np.random.Generator, chunk: int = 100_000
) -> np.ndarray:
    """Unit rows (n, dim) float32 in uneven topic clusters around a shared mean direction."""
    n_topics = max(2, n // 20)
    common = _unit(rng.standard_normal((1, dim), dtype=np.float32))  # (1, dim)
    centres = _unit(rng.standard_normal((n_topics, dim), dtype=np.float32) + 0.6 * common)
    # Zipf-like topic popularity: a few big topics, a long tail of small ones.
    weights = 1.0 / np.arange(1, n_topics + 1) ** 0.8
    topic = rng.choice(n_topics, size=n, p=weights / weights.sum())  # (n,)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        noise = rng.standard_normal((stop - start, dim), dtype=np.float32)
        # Noise of norm ~0.8: cosine ~0.8 to the topic centre, ~0.6 between topic members.
        out[start:stop] = _unit(centres[topic[start:stop]] + noise * (0.8 / np.sqrt(dim)))
    return out


def paraphrase_queries(
    vectors: np.ndarray, count: int, rng: np.random.Generator, noise: float = 0.5
) -> np.ndarray:
    """Noisy copies of random stored vectors, like paraphrases of stored questions. (count, d)"""
    picks = rng.choice(len(vectors), size=count, replace=False)
    jitter = rng.standard_normal((count, vectors.shape[1]), dtype=np.float32)
    return _unit(vectors[picks] + jitter * (noise / np.sqrt(vectors.shape[1])))


def rss_mb() -> float:
    """Resident set size of this process in MiB (Linux /proc), after returning free heap.

    Without malloc_trim, pages freed by earlier temporaries stay resident and get reused,
    and a new index's memory would not show up in the delta.
    """
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_bench(config: BenchConfig) -> list[KindResult]:
    set_threads(config.threads)
    print(f"dim={config.dim} k={config.k} queries={config.queries} threads={config.threads}")
    print(HEADER, flush=True)
    results: list[KindResult] = []
    for size in config.sizes:
        rng = np.random.default_rng(config.seed)
        vectors = clustered_unit_vectors(size, config.dim, rng)
        ids = np.arange(size, dtype=np.int64) << 7  # phrasing 0 of FAQ i
        queries = paraphrase_queries(vectors, config.queries, rng)

        exact_index, build_s, rss = _timed_build(vectors, ids, IndexConfig(kind="flat"))
        p50, p99, exact = _latencies(exact_index, queries, config.k)
        results.append(KindResult(size, "flat", 0, build_s, rss, p50, p99, 1.0))
        _print_row(results[-1], 0)
        del exact_index
        gc.collect()

        # min_ivf_vectors lowered so even the 10k set gets a real IVF index to measure.
        ivf_config = IndexConfig(kind="ivf", nprobe=config.nprobes[0], min_ivf_vectors=1_000)
        ivf_index, build_s, rss = _timed_build(vectors, ids, ivf_config)
        for nprobe in config.nprobes:
            ivf_index.set_nprobe(nprobe)
            p50, p99, found = _latencies(ivf_index, queries, config.k)
            recall = float(
                np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)])
            )
            results.append(KindResult(size, "ivf", nprobe, build_s, rss, p50, p99, recall))
            _print_row(results[-1], ivf_index.nlist)
        del ivf_index, vectors
        gc.collect()
    return results


def _timed_build(
    vectors: np.ndarray, ids: np.ndarray, config: IndexConfig
) -> tuple[FaqIndex, float, float]:
    """The index, its build time in s and the resident memory it added in MiB."""
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    index = FaqIndex.build(vectors, ids, config)
    return index, time.perf_counter() - start, rss_mb() - before


def _latencies(
    index: FaqIndex, queries: np.ndarray, k: int
) -> tuple[float, float, list[list[int]]]:
    for query in queries[:10]:  # warm caches and lazily allocated buffers
        index.search(query, k)
    times = np.empty(len(queries))
    found: list[list[int]] = []
    for i, query in enumerate(tqdm(queries, desc="queries", leave=False, mininterval=1.0)):
        start = time.perf_counter()
        hits = index.search(query, k)
        times[i] = time.perf_counter() - start
        found.append([hit.faq_id for hit in hits])
    return float(np.percentile(times, 50) * 1e3), float(np.percentile(times, 99) * 1e3), found


HEADER = (
    f"{'entries':>9} {'kind':>5} {'nlist':>6} {'nprobe':>6} {'build_s':>8} {'rss_MiB':>8} "
    f"{'p50_ms':>8} {'p99_ms':>8} {'recall@10':>9}"
)


def _print_row(result: KindResult, nlist: int) -> None:
    nprobe = "-" if result.kind == "flat" else str(result.nprobe)
    print(
        f"{result.size:>9} {result.kind:>5} {nlist or '-':>6} {nprobe:>6} "
        f"{result.build_s:>8.2f} {result.rss_mb:>8.1f} {result.p50_ms:>8.3f} "
        f"{result.p99_ms:>8.3f} {result.recall_at_k:>9.4f}",
        flush=True,
    )


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)
