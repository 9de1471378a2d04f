"""`samesay index build|status` and `samesay bench index` (heavy imports happen when run)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from cli.arguments import checkpoint_dir, configured_database_url, int_list, positive_int


def add_commands(commands: argparse._SubParsersAction, bench: argparse._SubParsersAction) -> None:
    index_parser = commands.add_parser("index", help="build or inspect the FAISS index")
    index_commands = index_parser.add_subparsers(dest="index_command", required=True)

    build = index_commands.add_parser(
        "build", help="re-embed every stored FAQ entry and write a fresh index (with progress)"
    )
    build.add_argument(
        "--model",
        type=checkpoint_dir,
        help="checkpoint directory (default: the model the service serves: the store's active "
        "model when its checkpoint is in <data_dir>/models/, else SAMESAY_MODEL_PATH)",
    )
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
    bench_index.add_argument("--dim", type=positive_int, default=256, help="vector dimension")
    bench_index.add_argument(
        "--queries", type=positive_int, default=300, help="single queries timed"
    )
    bench_index.add_argument(
        "--nprobe", default="8,16,32,64", type=int_list(1), help="IVF nprobe values to measure"
    )
    bench_index.add_argument(
        "--ef-search",
        default="32,64,128,256",
        type=int_list(1),
        help="HNSW efSearch values to measure",
    )
    bench_index.add_argument(
        "--threads", type=positive_int, default=1, help="FAISS OpenMP threads"
    )
    bench_index.add_argument("--out", type=Path, help="also write the rows as JSON here")
    bench_index.add_argument(
        "--vectors", choices=("synthetic", "real"), default="synthetic",
        help="synthetic clusters (default) or the shared datasets' sentences, encoded",
    )
    bench_index.add_argument(
        "--data", type=Path, default=Path("../shared/data"), help="datasets for --vectors real"
    )
    bench_index.add_argument(
        "--model",
        type=checkpoint_dir,
        help="encoder for --vectors real (default: the shipped base)",
    )
    bench_index.add_argument(
        "--cache", type=Path, help="keep encoded --vectors real here for the next run"
    )
    bench_index.set_defaults(func=_bench)


def _build(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from app.config import Settings
    from app.model_files import load_serving_encoder
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
    url = configured_database_url(settings.resolved_database_url)
    try:
        # An index of a store that is not there is a mistyped path, not an empty index.
        require_existing_database(url)
        store = FaqStore(url)
    except StoreError as error:
        print(f"samesay index build: {error}", file=sys.stderr)
        return 1
    try:
        # By default the encoder the service would serve (after a retrain, the store's
        # active model): an index built for another one is refused when the service loads it.
        encoder = (
            load_encoder(Path(args.model))
            if args.model
            else load_serving_encoder(settings, store, load_encoder)
        )
        searcher = FaqSearcher(store, encoder, settings.index_dir, config)
        searcher.rebuild()
        print(
            f"index built: {searcher.count} entries, {searcher.size} vectors, {searcher.kind}, "
            f"store revision {searcher.revision}, encoder {encoder.content_hash[:12]} "
            f"-> {settings.index_dir}"
        )
    except (ModelError, StoreError) as error:
        print(f"samesay index build: {error}", file=sys.stderr)
        return 1
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
    from model.errors import ModelError

    # Queries are drawn from the stored vectors (synthetic) or held out beside them (real).
    if args.queries > min(args.sizes):
        print(f"bench index: --queries {args.queries} is more than the smallest of --sizes "
              f"({min(args.sizes)})", file=sys.stderr)
        return 2
    if args.vectors == "real" and not args.data.is_dir():
        print(f"bench index: --data {args.data} is not a directory (--vectors real reads the "
              "shared datasets from it)", file=sys.stderr)
        return 2
    config = BenchConfig(
        sizes=args.sizes, dim=args.dim, queries=args.queries, nprobes=args.nprobe,
        ef_searches=args.ef_search, threads=args.threads, vectors=args.vectors,
        data_root=args.data, model_path=Path(args.model) if args.model else None,
        cache_dir=args.cache,
    )
    try:
        run_bench(config, out=args.out)
    except (FileNotFoundError, ModelError) as error:  # no datasets, no base model, bad one
        print(f"bench index: {error}", file=sys.stderr)
        return 1
    return 0


def _sizes(text: str) -> tuple[int, ...]:
    units = {"k": 1_000, "m": 1_000_000}
    sizes = []
    for part in text.lower().split(","):
        part = part.strip()
        try:
            size = int(part[:-1]) * units[part[-1]] if part[-1] in units else int(part)
        except (ValueError, IndexError):
            size = 0
        if size < 1:
            raise argparse.ArgumentTypeError(f"not a size: {part!r} (try 10k,100k,1m)")
        sizes.append(size)
    return tuple(sizes)

