"""`samesay bench service`, `bench faq` and `bench compare` (stdlib-only at import: cheap for
`samesay --help`; bench.faq pulls in torch, so it is imported when the command runs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import ModuleType

from bench import service
from bench.config import BenchConfig, BenchError
from cli.arguments import checkpoint_path, positive_int


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
        type=positive_int,
        default=None,
        help="passed to `samesay serve --workers` (default: its own)",
    )
    parser.add_argument(
        "--no-minilm", action="store_true", help="skip the all-MiniLM-L6-v2 comparison run"
    )
    parser.add_argument(
        "--server",
        choices=("auto", "samesay", "launcher"),
        default="auto",
        help="how the GRU server starts: `samesay serve` or the bench launcher",
    )
    _add_served_store_options(parser, defaults)
    parser.add_argument("--start-timeout", type=float, default=defaults.start_timeout_s)
    parser.add_argument("--out", type=Path, default=Path("bench-out/service.json"))
    parser.set_defaults(func=_main)
    _add_faq(bench)
    _add_compare(bench)
    _add_soak(bench)


def _add_served_store_options(parser: argparse.ArgumentParser, defaults: BenchConfig) -> None:
    """What `bench service` and `bench soak` share: the load tool, the FAQs and the model."""
    parser.add_argument("--load-tool", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--data-root",
        type=Path,
        default=defaults.data_root,
        help="folder with the shared group TSVs (templates when absent)",
    )
    parser.add_argument(
        "--model",
        # Must exist: a missing SAMESAY_MODEL_PATH is where a first start writes its model.
        type=checkpoint_path,
        default=None,
        help="checkpoint to serve (default: the server trains one on first start)",
    )


def _documented(
    bench: argparse._SubParsersAction, name: str, module: ModuleType, help: str
) -> argparse.ArgumentParser:
    """A subcommand whose --help description is its module's docstring."""
    return bench.add_parser(
        name,
        help=help,
        description=module.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_soak(bench: argparse._SubParsersAction) -> None:
    from bench import soak  # stdlib at import; matplotlib only when plotting

    parser = _documented(
        bench,
        "soak",
        soak,
        "/ask at 32 clients for minutes: errors and each worker's RSS over time",
    )
    defaults = soak.SoakConfig()
    parser.add_argument("--minutes", type=float, default=defaults.minutes)
    parser.add_argument(
        "--chunk",
        type=float,
        default=defaults.chunk_seconds,
        help="seconds per load chunk (one RSS sample each)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=defaults.warmup_seconds,
        help="seconds of load not counted in the RSS spread",
    )
    parser.add_argument("--workers", type=int, default=defaults.bench.workers)
    parser.add_argument("--entries", type=int, default=defaults.bench.entries)
    parser.add_argument("--concurrency", type=int, default=defaults.bench.concurrency)
    _add_served_store_options(parser, defaults.bench)
    parser.add_argument("--out", type=Path, default=Path("bench-out/soak"))
    parser.set_defaults(func=_soak_main)


def _soak_main(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from bench import soak

    if args.entries < 1 or args.concurrency < 1 or args.workers < 1:
        print(
            "bench soak: --entries, --concurrency and --workers must be at least 1", file=sys.stderr
        )
        return 2
    bench_config = replace(
        soak.SoakConfig().bench,
        workers=args.workers,
        entries=args.entries,
        concurrency=args.concurrency,
        load_tool=args.load_tool,
        data_root=args.data_root,
        model_path=args.model,
    )
    config = soak.SoakConfig(args.minutes, args.chunk, args.warmup, bench_config)
    try:
        soak.run(config, args.out)
    except BenchError as error:
        print(f"bench soak: {error}", file=sys.stderr)
        return 2
    return 0


def _add_compare(bench: argparse._SubParsersAction) -> None:
    from bench import compare  # stdlib only

    parser = _documented(
        bench,
        "compare",
        compare,
        "`bench service` at two or more commits side by side: medians and ratios",
    )
    parser.add_argument("revisions", nargs="+", help="commits (first = the baseline)")
    parser.add_argument("--rounds", type=int, default=2, help="runs per commit, alternating")
    parser.add_argument(
        "--service-args",
        default="--no-minilm --workers 2",
        help="arguments for each `bench service` run (one shell-quoted string)",
    )
    parser.add_argument(
        "--data-root",
        type=Path,
        default=BenchConfig().data_root,
        help="the shared data folder, the same for every commit",
    )
    parser.add_argument("--repo", type=Path, default=Path("."), help="the git checkout")
    parser.add_argument("--out", type=Path, default=Path("bench-out/compare.json"))
    parser.set_defaults(func=_compare_main)


def _compare_main(args: argparse.Namespace) -> int:
    import shlex

    from bench.compare import compare

    if args.rounds < 1:
        print("bench compare: --rounds must be at least 1", file=sys.stderr)
        return 2
    try:
        compare(
            args.repo.resolve(),
            args.revisions,
            args.rounds,
            shlex.split(args.service_args),
            args.data_root.resolve(),
            args.out,
        )
    except BenchError as error:
        print(f"bench compare: {error}", file=sys.stderr)
        return 2
    return 0


_FAQ_COLUMNS = ("shipped", "scratch", "minilm", "use", "bm25")  # bench.faq_columns.COLUMNS


def _add_faq(bench: argparse._SubParsersAction) -> None:
    parser = bench.add_parser(
        "faq",
        help="answer quality on a FAQ set you bring (paraphrase groups), Samesay vs baselines",
        description="Split paraphrase groups into FAQs, answerable questions and no-answer "
        "near misses (20 % of the groups); import the FAQs and train as the first start "
        "does; ask every question through the searcher. Reports top-1, answer-or-abstain "
        "accuracy at a 2-fold cross-validated threshold, answered right/wrong, CPU ms per "
        "ask and training seconds per column (docs/quality.md, 'FAQ sets').",
    )
    parser.add_argument(
        "--data",
        action="append",
        required=True,
        help="a dataset folder (groups.tsv, CLINC150's data_full.json, ...) or 'demo' (repeatable)",
    )
    parser.add_argument(
        "--columns",
        default=",".join(_FAQ_COLUMNS),
        help=f"comma-separated subset of {','.join(_FAQ_COLUMNS)} (default: all)",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument(
        "--max-groups",
        type=int,
        default=1500,
        help="seeded sample of groups per set (0: all)",
    )
    parser.add_argument(
        "--max-questions", type=int, default=0, help="seeded sample of questions (0: all)"
    )
    parser.add_argument(
        "--max-phrasings",
        type=int,
        default=0,
        help="at most N phrasings per FAQ, the rest of its half dropped (0: all the store takes)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch/BLAS threads")
    parser.add_argument(
        "--base",
        type=Path,
        default=None,
        help="base checkpoint for the `shipped` column (default: the packaged base model)",
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="override the recipe's epochs (quick checks)"
    )
    parser.add_argument(
        "--members",
        type=int,
        default=None,
        help="networks fine-tuned from the base for sets with more phrasings "
        "(SAMESAY_FAQ_MEMBERS; default: the recipe's)",
    )
    parser.add_argument(
        "--distil-steps",
        type=int,
        default=None,
        help="updates distilling the base kept beside the fine-tune (sets with few phrasings "
        "per FAQ) into it; 0 serves the pair (default: the recipe's)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument("--out", type=Path, default=Path("bench-out/faq"), help="writes faq.json")
    parser.set_defaults(func=_faq_main)


def _faq_main(args: argparse.Namespace) -> int:
    from bench.faq import FaqBenchConfig, run

    columns = tuple(c.strip() for c in args.columns.split(",") if c.strip())
    for name in ("max_groups", "max_questions", "max_phrasings"):
        if getattr(args, name) < 0:
            print(f"bench faq: --{name.replace('_', '-')} must be 0 or more", file=sys.stderr)
            return 2
    at_least_one = [args.threads, *(v for v in (args.members, args.epochs) if v is not None)]
    if min(at_least_one) < 1 or (args.distil_steps is not None and args.distil_steps < 0):
        print(
            "bench faq: --threads, --members and --epochs must be at least 1, "
            "--distil-steps 0 or more",
            file=sys.stderr,
        )
        return 2
    config = FaqBenchConfig(
        data=tuple(args.data),
        columns=columns,
        seeds=tuple(args.seeds),
        max_groups=args.max_groups or None,
        max_questions=args.max_questions or None,
        max_phrasings=args.max_phrasings or None,
        threads=args.threads,
        base=args.base,
        epochs=args.epochs,
        members=args.members,
        distil_steps=args.distil_steps,
        progress=not args.no_progress,
    )
    try:
        run(config, args.out)
    except BenchError as error:
        print(f"bench faq: {error}", file=sys.stderr)
        return 2
    return 0


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
