"""`samesay bench faq`: how well Samesay answers a FAQ set you bring, beside baselines.

    samesay bench faq --data ../shared/data/chinese_sts_zh --data demo \\
        --columns scratch,bm25,use --seeds 0 1 --max-groups 300 --out bench-out/faq

Each `--data` is a dataset folder (a groups.tsv of paraphrase groups, CLINC150's
data_full.json, anything training.readers reads) or the word `demo`; the split into FAQs,
answerable questions and no-answer near misses (plus the set's own out-of-scope sentences)
is bench.faq_sets'. Columns:
`shipped` (the first-start recipe started from `--base`), `scratch` (today's first-start
recipe), `minilm`, `use` (cosine of their vectors) and `bm25`; all share the split and the
scoring. `--max-phrasings K` keeps K phrasings per FAQ (the few-phrasings FAQ sets customers
write; the questions asked stay the same). Per set, seed and column it reports
- top1: answerable questions whose best FAQ is the right one (no threshold);
- accuracy: answer-or-abstain accuracy (right FAQ, or no answer when none fits) at a
  threshold tuned on one random half of the questions and scored on the other, 2-fold mean
  (bench.demo_measure.cross_validated_rates), with answered-right (of the answerable) and
  answered-wrong (of all: wrong FAQ, or answered though nothing fits) at that threshold;
- first_start_accuracy (Samesay columns): the same accuracy at the threshold the first
  start left in the store (first_start_threshold: learned by the rehearsal, else the
  default), i.e. what a new user gets before tuning anything; every question counts;
- CPU ms per ask (one question alone), the training seconds and the rehearsal's (Samesay
  columns).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import median

import numpy as np

from bench.config import BenchError
from bench.demo_measure import cross_validated_rates
from bench.faq_columns import COLUMNS, ColumnContext, column_scores, skip_reason
from bench.faq_samesay import ColumnScores
from bench.faq_sets import FaqSet, cap_questions, demo_set, load_group_set
from training.errors import DatasetError
from training.threshold import rates_at

DEMO = "demo"
RESULT_FILE = "faq.json"
# Shown in the table, in this order; the thresholds and the last two are not rates.
METRICS = (
    "top1",
    "accuracy",
    "answered_right",
    "answered_wrong",
    "threshold",
    "first_start_accuracy",
    "first_start_threshold",
    "cpu_ms_per_ask",
    "train_seconds",
)


@dataclass(frozen=True)
class FaqBenchConfig:
    data: tuple[str, ...]
    columns: tuple[str, ...] = COLUMNS
    seeds: tuple[int, ...] = (0, 1)
    # Groups sampled per set (seeded): fin_cs_zh's 17k groups would take an hour per column.
    max_groups: int | None = 1500
    max_questions: int | None = None
    # At most this many phrasings per FAQ (None: as many as the store takes): customers'
    # FAQ sets often have two or three, where the base's general knowledge counts most.
    max_phrasings: int | None = None
    threads: int = 1
    base: Path | None = None
    # Overrides the first-start recipe's epochs (quick checks); None keeps the recipe's.
    epochs: int | None = None
    # Networks fine-tuned from the base for sets with more phrasings (FaqRecipe.members), and
    # the updates that distil the base kept beside a fine-tune into it for sets with few
    # (FaqRecipe.distil_steps; 0 serves the pair); None = the recipe's.
    members: int | None = None
    distil_steps: int | None = None
    progress: bool = True
    train_overrides: dict[str, object] = field(default_factory=dict)


def _say(message: str) -> None:
    print(f"bench faq: {message}", file=sys.stderr, flush=True)


def load_set(source: str, seed: int, config: FaqBenchConfig) -> FaqSet:
    if source == DEMO:
        faq_set = demo_set(config.max_phrasings)
    else:
        folder = Path(source)
        if not folder.is_dir():
            raise BenchError(f"{folder} is not a dataset folder (give a dataset folder or 'demo')")
        try:
            faq_set = load_group_set(folder, seed, config.max_groups, config.max_phrasings)
        except DatasetError as error:
            raise BenchError(str(error)) from error
    return cap_questions(faq_set, config.max_questions, seed)


def score(faq_set: FaqSet, found: ColumnScores, seed: int) -> dict[str, float | None]:
    """The report's metrics for one column on one split (see the module docstring)."""
    gold = [q.gold for q in faq_set.questions]
    answerable = [i for i, g in enumerate(gold) if g is not None]
    hits = [found.predicted[i] == gold[i] for i in answerable]
    result: dict[str, float | None] = {"top1": float(np.mean(hits)) if hits else None}
    if len(gold) >= 2:
        rates = cross_validated_rates(found.scores, found.predicted, gold, seed)
        result |= {
            "accuracy": rates["accuracy"],
            "answered_right": rates["answered_correctly_rate"],
            "answered_wrong": rates["wrong_answer_rate"],
            "no_answer_declined": rates["abstain_rate_out_of_scope"],
            "threshold": rates["threshold"],
        }
    if found.first_start_threshold is not None:
        at_first_start = rates_at(found.first_start_threshold, found.scores, found.predicted, gold)
        result |= {
            "first_start_accuracy": at_first_start["accuracy"],
            "first_start_answered_wrong": at_first_start["wrong_answer_rate"],
            "first_start_threshold": found.first_start_threshold,
        }
    result |= {
        "cpu_ms_per_ask": found.cpu_ms_per_ask,
        "train_seconds": found.train_seconds,
        "rehearsal_seconds": found.rehearsal_seconds,
    }
    return result


def _median(runs: list[dict[str, float | None]]) -> dict[str, float | None]:
    names = dict.fromkeys(name for run in runs for name in run)
    out: dict[str, float | None] = {}
    for name in names:
        values = [run[name] for run in runs if run.get(name) is not None]
        out[name] = float(median(values)) if values else None  # type: ignore[arg-type]
    return out


def run(config: FaqBenchConfig, out_dir: Path | None = None) -> dict[str, object]:
    """Every set × seed × column; prints the table, writes `out_dir/faq.json` when given."""
    unknown = [c for c in config.columns if c not in COLUMNS]
    if unknown or not config.columns:
        raise BenchError(f"unknown or no columns {unknown}: choose from {', '.join(COLUMNS)}")
    if len(set(config.seeds)) < 2 or not config.data:
        # One seed's split and training vary too much to read alone (docs/quality.md).
        raise BenchError("give at least one --data and two or more distinct --seeds")
    overrides = dict(config.train_overrides)
    if config.epochs is not None:
        overrides["epochs"] = config.epochs
    context = ColumnContext(
        config.threads,
        config.base,
        overrides,
        config.progress,
        members=config.members,
        distil_steps=config.distil_steps,
    )
    skipped = {c: r for c in config.columns if (r := skip_reason(c, context)) is not None}
    columns = [c for c in config.columns if c not in skipped]
    for column, reason in skipped.items():
        _say(f"column {column} skipped: {reason}")
    sets = {_set_name(source): _run_set(source, columns, config, context) for source in config.data}
    config_record = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()}
    report: dict[str, object] = {"config": config_record, "skipped": skipped, "sets": sets}
    print(format_table(report))
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / RESULT_FILE).write_text(json.dumps(report, indent=2), encoding="utf-8")
        _say(f"wrote {out_dir / RESULT_FILE}")
    return report


def _set_name(source: str) -> str:
    return DEMO if source == DEMO else Path(source).name


def _run_set(
    source: str, columns: list[str], config: FaqBenchConfig, context: ColumnContext
) -> dict[str, object]:
    """Every seed's split and columns of one set, and the median over seeds per column."""
    per_seed: dict[str, dict[str, object]] = {}
    for seed in config.seeds:
        faq_set = load_set(source, seed, config)
        _say(
            f"{faq_set.name} seed {seed}: {len(faq_set.faqs)} FAQs, "
            f"{faq_set.answerable} answerable and "
            f"{len(faq_set.questions) - faq_set.answerable} no-answer questions"
        )
        results: dict[str, dict[str, float | None]] = {}
        for column in columns:
            _say(f"{faq_set.name} seed {seed} {column}: running")
            started = time.perf_counter()
            found = column_scores(column, faq_set, seed, context)
            results[column] = score(faq_set, found, seed)
            wall = time.perf_counter() - started
            results[column]["wall_seconds"] = wall
            _say(f"{faq_set.name} seed {seed} {column}: {_brief(results[column])}, {wall:.0f} s")
        per_seed[str(seed)] = {
            "faqs": len(faq_set.faqs),
            "questions": len(faq_set.questions),
            "answerable": faq_set.answerable,
            "counts": faq_set.counts,
            "columns": results,
        }
    medians = {
        column: _median([run["columns"][column] for run in per_seed.values()])  # type: ignore[index]
        for column in columns
    }
    return {"source": source, "seeds": per_seed, "median": medians}


def _brief(metrics: dict[str, float | None]) -> str:
    return ", ".join(f"{k} {_cell(k, metrics.get(k))}" for k in ("top1", "accuracy"))


def _cell(name: str, value: float | None) -> str:
    if value is None:
        return "–"
    if name == "cpu_ms_per_ask":
        return f"{value:.2f}"
    if name == "train_seconds":
        return f"{value:.0f}"
    return f"{value:.3f}"


def format_table(report: dict[str, object]) -> str:
    """Markdown: one row per set, column and seed, then the median over seeds."""
    header = ["set", "column", "seed", *METRICS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    sets: dict[str, dict[str, object]] = report["sets"]  # type: ignore[assignment]
    for set_name, entry in sets.items():
        seeds: dict[str, dict[str, object]] = entry["seeds"]  # type: ignore[assignment]
        medians: dict[str, dict[str, float | None]] = entry["median"]  # type: ignore[assignment]
        for column, middle in medians.items():
            rows = [(seed, run["columns"][column]) for seed, run in seeds.items()]  # type: ignore[index]
            rows.append(("median", middle))
            for seed, metrics in rows:
                cells = [_cell(m, metrics.get(m)) for m in METRICS]
                lines.append("| " + " | ".join([set_name, column, seed, *cells]) + " |")
    skipped: dict[str, str] = report.get("skipped", {})  # type: ignore[assignment]
    lines += [f"\n{column}: skipped ({reason})" for column, reason in skipped.items()]
    return "\n".join(lines)
