"""The `samesay` command line: one entry point, subcommands contributed by each package."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module exposes add_commands(commands, bench) and imports nothing heavy at module level,
# so `samesay --help` does not pay for torch or faiss.
_COMMAND_MODULES = ("cli.train", "cli.index", "cli.store", "cli.serve", "cli.bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="samesay", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    bench_parser = commands.add_parser("bench", help="benchmarks that print numbers")
    bench = bench_parser.add_subparsers(dest="bench", required=True, metavar="BENCHMARK")
    for name in _COMMAND_MODULES:
        importlib.import_module(name).add_commands(commands, bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
