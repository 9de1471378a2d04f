"""`samesay index build|status` and `samesay bench index` (heavy imports happen when run)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path


def add_commands(commands: argparse._SubParsersAction, bench: argparse._SubParsersAction) -> None:
    index_parser = commands.add_parser("index", help="build or inspect the FAISS index")
    index_commands = index_parser.add_subparsers(dest="index_command", required=True)

    build = index_commands.add_parser(
        "build", help="re-embed every stored FAQ entry and write a fresh index (with progress)"
    )
    build.add_argument("--model", type=Path, help="checkpoint directory (default: settings)")
    build.add_argument(
        "--kind", choices=("flat", "ivf", "hnsw", "auto"), help="index kind (default: settings)"
    )
    build.set_defaults(func=_build)

    status = index_commands.add_parser("status", help="print the saved index's sidecar")
    status.set_defaults(func=_status)

    bench_index = bench.add_parser(
        "index",
        help="FAISS build time, memory, latency and IVF/HNSW recall at 10k/100k/1M entries",
    )
    bench_index.add_argument(
        "--sizes", default="10k,100k,1m", type=_sizes, help="comma-separated, e.g. 10k,100k,1m"
    )
    bench_index.add_argument("--dim", type=int, default=256, help="vector dimension")
    bench_index.add_argument("--queries", type=int, default=300, help="single queries timed")
    bench_index.add_argument(
        "--nprobe", default="8,16,32,64", type=_ints, help="IVF nprobe values to measure"
    )
    bench_index.add_argument(
        "--ef-search", default="32,64,128,256", type=_ints, help="HNSW efSearch values to measure"
    )
    bench_index.add_argument("--threads", type=int, default=1, help="FAISS OpenMP threads")
    bench_index.add_argument("--out", type=Path, help="also write the rows as JSON here")
    bench_index.add_argument(
        "--vectors", choices=("synthetic", "real"), default="synthetic",
        help="synthetic clusters (default) or the shared datasets' sentences, encoded",
    )
    bench_index.add_argument(
        "--data", type=Path, default=Path("../shared/data"), help="datasets for --vectors real"
    )
    bench_index.add_argument(
        "--model", type=Path, help="encoder for --vectors real (default: the shipped base)"
    )
    bench_index.add_argument(
        "--cache", type=Path, help="keep encoded --vectors real here for the next run"
    )
    bench_index.set_defaults(func=_bench)


def _build(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from app.config import Settings
    from index.searcher import FaqSearcher, SearcherConfig
    from model.checkpoint import load_encoder
    from model.errors import ModelError
    from store.engine import require_existing_database
    from store.errors import StoreError
    from store.faq_store import FaqStore

    settings = Settings()
    config = SearcherConfig.from_settings(settings, progress=True)
    if args.kind:
        config = replace(config, index=replace(config.index, kind=args.kind))
    try:
        encoder = load_encoder(args.model or settings.resolved_model_path)
        # An index of a store that is not there is a mistyped path, not an empty index.
        require_existing_database(settings.resolved_database_url)
        store = FaqStore(settings.resolved_database_url)
    except (ModelError, StoreError) as error:
        print(f"samesay index build: {error}", file=sys.stderr)
        return 1
    try:
        searcher = FaqSearcher(store, encoder, settings.index_dir, config)
        searcher.rebuild()
        print(
            f"index built: {searcher.count} entries, {searcher.size} vectors, {searcher.kind}, "
            f"store revision {searcher.revision}, encoder {encoder.content_hash[:12]} "
            f"-> {settings.index_dir}"
        )
    finally:
        store.close()
    return 0


def _status(args: argparse.Namespace) -> int:
    from app.config import Settings
    from index.errors import IndexFileError
    from index.persistence import read_meta

    settings = Settings()
    try:
        meta = read_meta(settings.index_dir)
    except IndexFileError as error:
        print(error)
        return 1
    print(json.dumps(asdict(meta), indent=2))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from bench.index import BenchConfig, run_bench

    run_bench(
        BenchConfig(
            sizes=args.sizes, dim=args.dim, queries=args.queries, nprobes=args.nprobe,
            ef_searches=args.ef_search, threads=args.threads, vectors=args.vectors,
            data_root=args.data, model_path=args.model, cache_dir=args.cache,
        ),
        out=args.out,
    )
    return 0


def _sizes(text: str) -> tuple[int, ...]:
    units = {"k": 1_000, "m": 1_000_000}
    sizes = []
    for part in text.lower().split(","):
        part = part.strip()
        try:
            sizes.append(int(part[:-1]) * units[part[-1]] if part[-1] in units else int(part))
        except (ValueError, IndexError) as error:
            raise argparse.ArgumentTypeError(f"not a size: {part!r} (try 10k,100k,1m)") from error
    return tuple(sizes)


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from error
