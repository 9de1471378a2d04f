"""`samesay bench index`: build time, memory, single-query latency and recall, printed.

Flat (exact) against IVF over an nprobe sweep and HNSW over an efSearch sweep, each recall@10
measured against the exact answers. One vector per entry, so entries = vectors.

Two sources of vectors (`vectors`):

- ``synthetic`` (default; needs nothing): shaped like sentence embeddings, with a shared mean
  direction (real encoders are anisotropic), topic clusters of very uneven size, and queries
  that are noisy copies of stored vectors. Big topics are thousands of vectors all at the same
  distance from each other, so past rank 1 the "true" neighbours are noise: a worst case for
  any approximate index, harder than real sentences at 1M.
- ``real``: the shared datasets' sentences encoded by the shipped base model, topped up with
  noisy copies, queried with held-out paraphrases (bench.index_vectors).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from tqdm import tqdm

from bench.index_vectors import real_phrasing_vectors
from index.faq_index import FaqIndex, IndexConfig, set_threads
from model.base_model import shipped_base_path
from model.numpy_encoder import NumpyEncoder, load_numpy_encoder


@dataclass(frozen=True)
class BenchConfig:
    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    # The encoder's default output size; pass --dim to match another checkpoint.
    dim: int = 256
    # Enough single queries for a stable p99 without making the 1M flat run take minutes.
    queries: int = 300
    k: int = 10
    nprobes: tuple[int, ...] = (8, 16, 32, 64)
    ef_searches: tuple[int, ...] = (32, 64, 128, 256)
    # Same default as Settings.faiss_threads: single queries are fastest on one thread.
    threads: int = 1
    seed: int = 0
    vectors: Literal["synthetic", "real"] = "synthetic"
    # For real vectors: the shared datasets, the encoder (None: the shipped base) and where
    # encoded vectors are cached between runs (None: not cached).
    data_root: Path = Path("../shared/data")
    model_path: Path | None = None
    cache_dir: Path | None = None


@dataclass(frozen=True)
class KindResult:
    size: int
    kind: str
    nlist: int  # IVF lists (0 for the other kinds)
    # The recall knob: nprobe for IVF, efSearch for HNSW, 0 for flat.
    search_param: int
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


def run_bench(config: BenchConfig, out: Path | None = None) -> list[KindResult]:
    """Every size, kind and knob setting as printed rows; also as JSON at `out` if given."""
    set_threads(config.threads)
    encoder = _real_encoder(config) if config.vectors == "real" else None
    dim = encoder.dim if encoder is not None else config.dim
    print(f"vectors={config.vectors} dim={dim} k={config.k} queries={config.queries} "
          f"threads={config.threads}")
    print(HEADER, flush=True)
    results: list[KindResult] = []
    for size in config.sizes:
        if encoder is not None:
            real = real_phrasing_vectors(
                size, config.queries, config.data_root, encoder, config.seed, config.cache_dir
            )
            print(f"  {size:,} real vectors: {real.source}", flush=True)
            set_threads(config.threads)  # encoding may have used more
            vectors, queries = real.vectors, real.queries
        else:
            rng = np.random.default_rng(config.seed)
            vectors = clustered_unit_vectors(size, config.dim, rng)
            queries = paraphrase_queries(vectors, config.queries, rng)
        ids = np.arange(size, dtype=np.int64) << 7  # phrasing 0 of FAQ i

        exact_index, build_s, rss = _timed_build(vectors, ids, IndexConfig(kind="flat"))
        p50, p99, exact = _latencies(exact_index, queries, config.k)
        _report(results, KindResult(size, "flat", 0, 0, build_s, rss, p50, p99, 1.0))
        del exact_index
        gc.collect()

        # min_ivf_vectors lowered so even the 10k set gets a real IVF / HNSW index to measure.
        sweeps: tuple[tuple[IndexConfig, tuple[int, ...]], ...] = (
            (IndexConfig(kind="ivf", min_ivf_vectors=1_000), config.nprobes),
            (IndexConfig(kind="hnsw", min_ivf_vectors=1_000), config.ef_searches),
        )
        for index_config, knob_values in sweeps:
            index, build_s, rss = _timed_build(vectors, ids, index_config)
            for value in knob_values:
                if index.kind == "ivf":
                    index.set_nprobe(value)
                else:
                    index.set_ef_search(value)
                p50, p99, found = _latencies(index, queries, config.k)
                recall = float(np.mean(
                    [len(set(f) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)]
                ))
                _report(results, KindResult(
                    size, index.kind, index.nlist, value, build_s, rss, p50, p99, recall
                ))
            del index
            gc.collect()
        del vectors
        gc.collect()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "config": json.loads(json.dumps(asdict(config), default=str)),
            "results": [asdict(r) for r in results],
        }
        out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {out}")
    return results


def _real_encoder(config: BenchConfig) -> NumpyEncoder:
    """The serving encoder (NumPy: faster than torch's batched GRU on few threads)."""
    path = config.model_path or shipped_base_path()
    if path is None:
        raise FileNotFoundError("no shipped base model in this checkout: pass --model")
    return load_numpy_encoder(path)


def _report(results: list[KindResult], result: KindResult) -> None:
    results.append(result)
    _print_row(result)


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
    f"{'entries':>9} {'kind':>5} {'nlist':>6} {'probe':>12} {'build_s':>8} {'rss_MiB':>8} "
    f"{'p50_ms':>8} {'p99_ms':>8} {'recall@10':>9}"
)
_KNOB_NAMES = {"ivf": "nprobe", "hnsw": "efSearch"}


def _print_row(result: KindResult) -> None:
    knob = _KNOB_NAMES.get(result.kind)
    probe = f"{knob} {result.search_param}" if knob else "-"
    print(
        f"{result.size:>9} {result.kind:>5} {result.nlist or '-':>6} {probe:>12} "
        f"{result.build_s:>8.2f} {result.rss_mb:>8.1f} {result.p50_ms:>8.3f} "
        f"{result.p99_ms:>8.3f} {result.recall_at_k:>9.4f}",
        flush=True,
    )


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)
