"""CLI: `samesay train`, `samesay evaluate` and `samesay bench quality`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path

from cli.arguments import (
    checkpoint_dir,
    float_range,
    fraction,
    int_range,
    non_negative_float,
    non_negative_int,
    output_dir,
    positive_float,
    positive_int,
    training_device,
    unit_interval,
)

Command = Callable[[argparse.Namespace], int]


def _reported(name: str, command: Command) -> Command:
    """`command` with bad input (a missing or malformed dataset, unusable groups, an
    unreadable checkpoint) reported as one line on stderr and exit status 2, not a traceback."""

    def run(args: argparse.Namespace) -> int:
        from model.errors import ModelError
        from training.errors import DatasetError, TrainingError

        try:
            return command(args)
        except (DatasetError, TrainingError, ModelError) as error:
            print(f"samesay {name}: {error}", file=sys.stderr)
            return 2

    return run


# cos θ − m with m >= 2 puts the target below every other class's cosine whatever θ is: the
# loss could never be met (the default is 0.35).
_margin = float_range(0.0, 2.0, high_inclusive=False)
# NumPy's legacy seeding (training.trainer.seed_everything) takes 0 <= seed < 2**32.
_seed = int_range(0, 2**32 - 1)


def _add_recipe_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("recipe (defaults = the default recipe)")
    group.add_argument("--tokenizer", choices=["char", "subword", "bilingual"])
    group.add_argument("--pooling", choices=["last", "mean", "max"])
    group.add_argument("--loss", choices=["softmax", "am_softmax", "simpler_a_softmax"])
    group.add_argument("--unidirectional", action="store_true", help="uni-GRU instead of bi")
    group.add_argument("--hidden-size", type=positive_int)
    group.add_argument("--embedding-dim", type=positive_int)
    group.add_argument("--layers", type=positive_int, dest="num_layers")
    group.add_argument("--epochs", type=positive_int)
    group.add_argument(
        "--min-steps", type=non_negative_int, help="extra epochs for small data up to N updates"
    )
    group.add_argument("--batch-size", type=positive_int)
    group.add_argument("--learning-rate", type=positive_float)
    group.add_argument("--lr-schedule", choices=["constant", "linear", "cosine"])
    group.add_argument("--warmup-steps", type=non_negative_int, help="linear warm-up updates")
    group.add_argument(
        "--margin", type=_margin, help="AM-softmax's additive margin m, 0 <= m < 2"
    )
    group.add_argument("--scale", type=positive_float)
    group.add_argument("--label-smoothing", type=fraction)
    group.add_argument(
        "--word-dropout", type=fraction, help="drop training words with this rate (0 <= r < 1)"
    )
    group.add_argument("--min-count", type=positive_int)
    group.add_argument("--max-tokens", type=positive_int)
    group.add_argument("--seed", type=_seed)
    group.add_argument(
        "--members", type=positive_int, help="networks in the ensemble (one seed each)"
    )
    group.add_argument(
        "--distil-steps",
        type=non_negative_int,
        help="fine-tuning: distil the --members into one network",
    )
    group.add_argument(
        "--distil-anchor-sentences",
        type=non_negative_int,
        help="general requests beside the FAQ's",
    )
    group.add_argument("--max-train-seconds", type=positive_float)
    group.add_argument(
        "--device", type=training_device, help="auto (default: CUDA when available), cpu, cuda"
    )
    group.add_argument(
        "--init-from",
        type=checkpoint_dir,
        help="checkpoint directory to fine-tune instead of training from scratch",
    )
    group.add_argument(
        "--threads", type=positive_int, dest="num_threads", help="CPU threads to train"
    )


# Options that shape the network: a fine-tune (--init-from) takes all of them from the
# checkpoint, so giving one would be silently ignored.
_NETWORK_OPTIONS = {
    "tokenizer": "--tokenizer",
    "pooling": "--pooling",
    "unidirectional": "--unidirectional",
    "hidden_size": "--hidden-size",
    "embedding_dim": "--embedding-dim",
    "num_layers": "--layers",
    "max_tokens": "--max-tokens",
}


def _config_from_args(args: argparse.Namespace):
    from training.trainer import TrainConfig

    if getattr(args, "init_from", None):
        given = [flag for name, flag in _NETWORK_OPTIONS.items() if getattr(args, name, None)]
        if given:
            raise SystemExit(
                f"samesay: {', '.join(given)} cannot change a fine-tune: with --init-from the "
                "network (tokenizer, sizes, pooling) is the checkpoint's"
            )
    config = TrainConfig()
    encoder_fields = "pooling hidden_size embedding_dim num_layers members".split()
    train_fields = (
        "loss epochs min_steps batch_size learning_rate lr_schedule warmup_steps margin scale "
        "label_smoothing word_dropout seed max_train_seconds device num_threads init_from "
        "distil_steps distil_anchor_sentences"
    ).split()
    changes = {f: getattr(args, f) for f in train_fields if getattr(args, f, None) is not None}
    encoder_changes = {
        f: getattr(args, f) for f in encoder_fields if getattr(args, f, None) is not None
    }
    if args.unidirectional:
        encoder_changes["bidirectional"] = False
    tokenizer_changes = {
        name: value
        for name, value in (
            ("kind", args.tokenizer),
            ("min_count", args.min_count),
            ("max_tokens", args.max_tokens),
        )
        if value is not None
    }
    if tokenizer_changes:
        encoder_changes["tokenizer"] = replace(config.encoder.tokenizer, **tokenizer_changes)
    return replace(config, encoder=replace(config.encoder, **encoder_changes), **changes)


def _train(args: argparse.Namespace) -> int:
    if args.recipe == "base":
        return _train_base(args)
    from training.readers import merge_datasets, read_dataset
    from training.trainer import train_encoder

    datasets = [read_dataset(Path(p)) for p in args.data]
    # Only training sentences: a source's val/test splits are for evaluation.
    merged = merge_datasets(datasets)
    groups = merged.groups(None if args.all_splits else _train_splits(merged))
    with _out_dir(Path(args.out)) as out:  # once the data has read well
        path = train_encoder(list(groups.values()), out, _config_from_args(args))
    print(f"checkpoint written to {path}")
    return 0


def _train_base(args: argparse.Namespace) -> int:
    from training.base_recipe import BaseRecipe, train_base
    from training.model_card import write_model_card

    if len(args.data) != 1:
        raise SystemExit("--recipe base takes one --data: the data root (../shared/data)")
    names = (
        "epochs seed num_threads device max_train_seconds hidden_size embedding_dim "
        "num_layers pooling wordnet_en "
        "learning_rate batch_size synthetic_en synthetic_zh listwise_weight topic_share"
    ).split()
    changes = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    # The command as given, for the model card (before --no-teacher-start's own changes).
    flags = [
        f"--{'threads' if n == 'num_threads' else n.replace('_', '-')} {v}"
        for n, v in changes.items()
    ]
    if args.no_teacher_start:
        changes.update(teacher_vocabulary=False, token_init=False, synthetic_en=0, synthetic_zh=0)
        flags.append("--no-teacher-start")
    with _out_dir(Path(args.out)) as out:
        path = train_base(Path(args.data[0]), out, replace(BaseRecipe(), **changes))
    command = " ".join(
        ["samesay train --recipe base --data", args.data[0], "--out", args.out, *flags]
    )
    card = write_model_card(path, command)
    print(f"base checkpoint written to {path} (model card: {card})")
    return 0


@contextmanager
def _out_dir(path: Path) -> Iterator[Path]:
    """`path`, created before minutes of training rather than after them (--out's type
    refuses a file in the way; only trying tells a read-only or virtual place such as /proc),
    and removed again when the command fails and leaves it empty."""
    created = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SystemExit(f"samesay train: cannot create --out {path}: {error.strerror}") from None
    try:
        yield path
    except BaseException:
        if created:
            with suppress(OSError):  # rmdir: only an empty directory goes
                path.rmdir()
        raise


def _train_splits(dataset) -> list[str | None]:
    splits = dataset.splits
    if "train" in splits:
        return [s for s in splits if s not in {"val", "test"}]
    return list(splits)


def _evaluate(args: argparse.Namespace) -> int:
    from bench.quality import _evaluate as evaluate_all
    from bench.quality import make_split
    from model.checkpoint import load_encoder
    from training.evaluate import encoder_similarity
    from training.readers import read_dataset

    dataset = read_dataset(Path(args.data), args.oos)
    encoder = load_encoder(Path(args.model))
    report = evaluate_all(encoder_similarity(encoder), make_split(dataset))
    print(json.dumps(report, indent=2))
    return 0


def _bench_quality(args: argparse.Namespace) -> int:
    from bench.quality import format_table, run_quality_bench
    from training.readers import read_dataset

    dataset = read_dataset(Path(args.data), args.oos)
    extra = [read_dataset(Path(p)) for p in args.extra_train]
    report = run_quality_bench(
        dataset,
        Path(args.out),
        _config_from_args(args),
        extra,
        class_weight_share=args.class_weight_share,
    )
    print(format_table(report))
    print(f"wrote {Path(args.out) / 'quality.json'}")
    return 0


def _bench_margins(args: argparse.Namespace) -> int:
    from bench.margins import format_markdown, run_margin_study
    from training.readers import read_dataset

    dataset = read_dataset(Path(args.data))
    report = run_margin_study(dataset, Path(args.out), _config_from_args(args), args.seeds)
    print(format_markdown(report["summary"]))
    print(f"wrote {Path(args.out) / 'margins.json'}")
    return 0


def add_commands(commands, bench) -> None:
    """Register train / evaluate / bench quality on the `samesay` parser."""
    train = commands.add_parser("train", help="train an encoder checkpoint on paraphrase groups")
    train.add_argument(
        "--data",
        action="append",
        required=True,
        help="dataset (repeatable); with --recipe base, the data root (../shared/data)",
    )
    train.add_argument(
        "--recipe",
        choices=["groups", "base"],
        default="groups",
        help="groups (default): AM-softmax on the --data groups; base: the shipped base "
        "encoder (teacher distillation + licence-clean groups, training.base_recipe)",
    )
    train.add_argument(
        "--out",
        required=True,
        type=output_dir,
        help="checkpoint directory to write (created if missing; a checkpoint already there "
        "is replaced)",
    )
    train.add_argument(
        "--all-splits", action="store_true", help="also train on the sources' val/test splits"
    )
    train.add_argument(
        "--no-teacher-start",
        action="store_true",
        help="--recipe base without the teacher packages: no teacher vocabulary, no synthetic "
        "requests, random embedding start (worse; docs/quality.md)",
    )
    train.add_argument(
        "--synthetic-en",
        type=non_negative_int,
        help="--recipe base: made-up English requests carrying the teacher's whole "
        "vocabulary, distilled beside the real ones (training.synthetic_requests)",
    )
    train.add_argument(
        "--synthetic-zh",
        type=non_negative_int,
        help="--recipe base: made-up Chinese requests carrying jieba's dictionary words, "
        "distilled from USE beside the real ones (training.synthetic_requests_zh)",
    )
    train.add_argument(
        "--listwise-weight",
        type=non_negative_float,
        help="--recipe base: weight of the listwise distillation term (0, off, as shipped: "
        "it agreed more with MiniLM but ranked no better; docs/quality.md)",
    )
    train.add_argument(
        "--topic-share",
        type=unit_interval,
        help="--recipe base: share of each distillation batch drawn from one topic cluster "
        "of the teacher's vectors (training.topic_batches; 0, off, as shipped: a wash after "
        "fine-tuning; docs/quality.md)",
    )
    train.add_argument(
        "--wordnet-en",
        type=non_negative_int,
        help="--recipe base: up to N of WordNet's definitions and examples distilled from "
        "MiniLM (training.wordnet_text; needs apt-get install wordnet-base; 0, off, as "
        "shipped: a wash after fine-tuning; docs/quality.md)",
    )
    _add_recipe_options(train)
    train.set_defaults(func=_reported("train", _train))

    evaluate = commands.add_parser(
        "evaluate", help="run the evaluation protocols for a checkpoint on a dataset"
    )
    evaluate.add_argument(
        "--model", required=True, type=checkpoint_dir, help="checkpoint directory"
    )
    evaluate.add_argument("--data", required=True, help="dataset file or folder")
    evaluate.add_argument("--oos", help="optional out-of-scope file (txt or jsonl)")
    evaluate.set_defaults(func=_reported("evaluate", _evaluate))

    quality = bench.add_parser(
        "quality", help="train the default recipe and compare it with BM25 (quality.json)"
    )
    quality.add_argument("--data", required=True, help="dataset file or folder")
    quality.add_argument("--out", required=True, type=output_dir, help="output directory")
    quality.add_argument("--oos", help="optional out-of-scope file (txt or jsonl)")
    quality.add_argument(
        "--extra-train",
        action="append",
        default=[],
        help="extra dataset to train on (repeatable; never evaluated)",
    )
    quality.add_argument(
        "--class-weight-share",
        type=unit_interval,
        default=None,
        help="weight of the class vectors in closed-set/out-of-scope scores "
        "(0 = best phrasing only; default: chosen on the validation split)",
    )
    _add_recipe_options(quality)
    quality.set_defaults(func=_reported("bench quality", _bench_quality))

    margins = bench.add_parser(
        "margins", help="softmax vs AM-softmax vs simpler-A-softmax on unseen groups"
    )
    margins.add_argument("--data", required=True, help="dataset file or folder")
    margins.add_argument("--out", required=True, type=output_dir, help="output directory")
    margins.add_argument(
        "--seeds", type=positive_int, default=3, help="seeds per loss (default 3)"
    )
    _add_recipe_options(margins)
    margins.set_defaults(func=_reported("bench margins", _bench_margins))
