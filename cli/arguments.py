"""argparse `type=` validators shared by the commands.

A value no command can use (a port past 65535, a batch size of 0, a learning rate of nan) is
refused while the arguments are parsed: argparse prints the usage and one line naming the
option, and exits with status 2, instead of a traceback from deep inside torch, FAISS or
SQLAlchemy minutes later. Stdlib only at import, so that `samesay --help` stays cheap.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from pathlib import Path


def int_range(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """A type accepting integers from `minimum` to `maximum` (inclusive; None: unbounded)."""
    wanted = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be an integer {wanted}, got {text!r}")
        return value

    return parse


def float_range(
    low: float, high: float = math.inf, *, low_inclusive: bool = True, high_inclusive: bool = True
) -> Callable[[str], float]:
    """A type accepting finite numbers between `low` and `high` (nan and inf never: a nan
    learning rate or margin trains garbage, or fails deep inside torch)."""
    bounds = [f"{'>=' if low_inclusive else '>'} {low:g}"]
    if high != math.inf:
        bounds.append(f"{'<=' if high_inclusive else '<'} {high:g}")
    wanted = " and ".join(bounds)

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        above = value >= low if low_inclusive else value > low
        below = value <= high if high_inclusive else value < high
        if not (math.isfinite(value) and above and below):
            raise argparse.ArgumentTypeError(f"must be a finite number {wanted}, got {text!r}")
        return value

    return parse


positive_int = int_range(1)
non_negative_int = int_range(0)
port = int_range(1, 65535)
positive_float = float_range(0.0, low_inclusive=False)
non_negative_float = float_range(0.0)
# A rate or share that 1 would make meaningless (every word dropped, every label smoothed).
fraction = float_range(0.0, 1.0, high_inclusive=False)
unit_interval = float_range(0.0, 1.0)


def int_list(minimum: int) -> Callable[[str], tuple[int, ...]]:
    """A type for comma-separated integers, each at least `minimum` ("8,16,32")."""
    each = int_range(minimum)

    def parse(text: str) -> tuple[int, ...]:
        parts = [part.strip() for part in text.split(",")]
        try:
            return tuple(each(part) for part in parts)
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(
                f"must be comma-separated integers >= {minimum}, got {text!r}"
            ) from None

    return parse


def training_device(text: str) -> str:
    """auto, cpu, cuda or cuda:N; a CUDA device only where this torch can use it. `auto` is
    resolved by training.trainer.resolve_device (CUDA when available, else the CPU)."""
    if text in ("auto", "cpu"):
        return text
    match = re.fullmatch(r"cuda(?::(\d+))?", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"must be auto, cpu, cuda or cuda:N, got {text!r}")
    import torch  # only for a CUDA request; training imports it anyway

    if not torch.cuda.is_available():
        raise argparse.ArgumentTypeError(
            "CUDA is not available on this machine (use --device cpu or auto)"
        )
    index = int(match.group(1) or 0)
    if index >= torch.cuda.device_count():
        raise argparse.ArgumentTypeError(
            f"no CUDA device {index}: this machine has {torch.cuda.device_count()}"
        )
    return text


def checkpoint_dir(text: str) -> str:
    """An existing checkpoint directory (one holding checkpoint.json)."""
    from model.checkpoint_format import META_FILE  # no torch; only when the option is given

    path = Path(text)
    if path.is_dir() and (path / META_FILE).is_file():
        return text
    if path.is_dir():
        problem = f"{text} has no {META_FILE}"
    elif path.exists():
        problem = f"{text} is a file"
    else:
        problem = f"{text} does not exist"
    raise argparse.ArgumentTypeError(
        f"must be a checkpoint directory (with {META_FILE}): {problem}"
    )


def output_dir(text: str) -> str:
    """A directory to write into: existing, or creatable because no file is in its way.
    (Whether it can really be created, e.g. under /proc or without permission, is known only
    when the command creates it.)"""
    path = Path(text)
    for existing in (path, *path.parents):
        if existing.is_dir():
            return text
        if existing.exists():
            where = "is a file" if existing == path else f"cannot be created: {existing} is a file"
            raise argparse.ArgumentTypeError(f"must be a directory: {text} {where}")
    return text


def checkpoint_path(text: str) -> Path:
    """`checkpoint_dir`, as a Path."""
    return Path(checkpoint_dir(text))


def database_url(text: str) -> str:
    """A URL SQLAlchemy can parse; which backends are supported is the store's to say."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(text)
    except ArgumentError:
        raise argparse.ArgumentTypeError(
            f"not a database URL: {text!r} (e.g. sqlite:////abs/path/samesay.db or "
            "postgresql+psycopg://user@host:5432/samesay)"
        ) from None
    return text


def configured_database_url(url: str) -> str:
    """The settings' database URL (SAMESAY_DATABASE_URL, or the default) checked as
    --database-url is: one line and exit status 1, not SQLAlchemy's traceback."""
    try:
        return database_url(url)
    except argparse.ArgumentTypeError as error:
        raise SystemExit(f"samesay: SAMESAY_DATABASE_URL: {error}") from None
