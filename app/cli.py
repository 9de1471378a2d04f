"""The `samesay` command line: one entry point, subcommands contributed by each package."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module exposes add_commands(commands, bench); imported lazily so `samesay --help`
# does not pay for torch or faiss.
_COMMAND_MODULES = ("training.cli", "index.cli", "store.cli", "app.serve_cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="samesay", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    bench_parser = commands.add_parser("bench", help="benchmarks that print numbers")
    bench = bench_parser.add_subparsers(dest="bench", required=True, metavar="BENCHMARK")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue  # that package has no commands yet
        module.add_commands(commands, bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
