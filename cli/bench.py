"""`samesay bench service` (stdlib-only at import: cheap for `samesay --help`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import service
from bench.config import BenchConfig, BenchError


def add_commands(commands: argparse._SubParsersAction, bench: argparse._SubParsersAction) -> None:
    """Registers `samesay bench service` on the `bench` subparsers."""
    parser = bench.add_parser(
        "service",
        help="start the server and measure /ask latency and throughput over loopback",
        description=service.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    defaults = BenchConfig()
    parser.add_argument("--entries", type=int, default=defaults.entries)
    parser.add_argument("--alternates", type=int, default=defaults.alternates)
    parser.add_argument("--questions", type=int, default=defaults.questions)
    parser.add_argument("--latency-seconds", type=float, default=defaults.latency_seconds)
    parser.add_argument("--latency-requests", type=int, default=defaults.latency_requests)
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument(
        "--seconds",
        type=float,
        default=defaults.load_seconds,
        help="duration of the concurrent phase",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="passed to `samesay serve --workers` (default: its own)",
    )
    parser.add_argument(
        "--no-minilm", action="store_true", help="skip the all-MiniLM-L6-v2 comparison run"
    )
    parser.add_argument("--load-tool", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--server",
        choices=("auto", "samesay", "launcher"),
        default="auto",
        help="how the GRU server starts: `samesay serve` or the bench launcher",
    )
    parser.add_argument(
        "--data-root",
        type=Path,
        default=defaults.data_root,
        help="folder with the shared group TSVs (templates when absent)",
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="checkpoint to serve (default: the server trains one on first start)",
    )
    parser.add_argument("--start-timeout", type=float, default=defaults.start_timeout_s)
    parser.add_argument("--out", type=Path, default=Path("bench-out/service.json"))
    parser.set_defaults(func=_main)


def _config_from_args(args: argparse.Namespace) -> BenchConfig:
    for name in ("entries", "questions", "concurrency", "latency_requests"):
        if getattr(args, name) < 1:
            raise BenchError(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 <= args.alternates <= 20:
        raise BenchError("--alternates must be between 0 and 20")
    if not (0 < args.seconds <= 600 and 0 < args.latency_seconds <= 600):
        raise BenchError("durations must be between 0 and 600 seconds")
    return BenchConfig(
        entries=args.entries,
        alternates=args.alternates,
        questions=args.questions,
        latency_requests=args.latency_requests,
        latency_seconds=args.latency_seconds,
        concurrency=args.concurrency,
        load_seconds=args.seconds,
        start_timeout_s=args.start_timeout,
        workers=args.workers,
        minilm=not args.no_minilm,
        load_tool=args.load_tool,
        server=args.server,
        data_root=args.data_root,
        model_path=args.model,
    )


def _main(args: argparse.Namespace) -> int:
    try:
        service.run(_config_from_args(args), args.out)
    except BenchError as error:
        print(f"bench service: {error}", file=sys.stderr)
        return 2
    return 0

