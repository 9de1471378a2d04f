"""First start: import the demo help centre, train the first model, tune the threshold.

`samesay serve` calls `ensure_ready(settings)` before the service loads. Each step runs only
when its result is missing, so later starts do nothing heavy:

1. The store is empty and no model exists → import the bundled demo FAQs (question,
   alternates and tags; never the held-out phrasings).
2. No checkpoint at `settings.resolved_model_path` (and no retrained active model) → train
   one from the store's entries (each entry's phrasings = one group), plus seeded noisy
   copies of every phrasing (`app.demo.augment`), written atomically.
3. No threshold in the store and the store holds the demo FAQs → tune it from the demo's
   held-out phrasings (should get their FAQ) and unanswerable questions (should get nothing),
   store it, and write the curve to `<data_dir>/threshold_curve.png`.

Your own FAQs are never mixed with the demo: a non-empty store skips step 1, and step 3
then has no labelled examples for your entries, so the threshold stays at the default until
you tune it (POST /admin/threshold/tune). A lock file in the data directory keeps two
processes on one machine from bootstrapping at the same time.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.config import Settings
from app.demo import LANGUAGES, DemoFaq, DemoLanguage, load_faqs, load_unanswerable
from app.demo.augment import AugmentConfig, augment_groups
from app.model_files import checkpoint_dir, load_serving_encoder
from model.checkpoint import META_FILE
from model.encoder import SentenceEncoder
from model.tokenizer import TokenizerConfig
from store.entries import FaqDraft, FaqEntry
from store.faq_store import FaqStore
from training.threshold import Objective, plot_threshold_curve, tune_threshold
from training.trainer import TrainConfig, train_encoder

Echo = Callable[[str], None]

CURVE_FILE = "threshold_curve.png"
TUNING_FILE = "threshold_tuning.json"
_LOCK_FILE = ".bootstrap.lock"


def first_start_train_config() -> TrainConfig:
    """The recipe for a model trained from a small FAQ set on first start (see docs in README).

    Differs from the trainer's defaults, which target datasets of thousands of sentences:
    every group is trained on (no held-out groups: each one is an FAQ that must be answerable),
    and pieces seen once are kept (a few hundred phrasings contain most words once).
    """
    return TrainConfig(
        # Words and n-grams seen once still carry meaning in a few hundred phrasings.
        tokenizer=TokenizerConfig(min_count=1, min_n=2, max_n=4),
        # Every FAQ must be trained on: held-out groups would be unanswerable ones.
        holdout_fraction=0.0,
        min_groups_for_holdout=1_000_000_000,
        # Demo set, one seed: 6 epochs matched 10 in tuned accuracy (0.656 vs 0.659) but its
        # looser clusters declined fewer unrelated questions (ZH off-topic 62 % vs 86 %) and
        # were no better at any wrong-answer rate. 10 epochs: ~37 s of one core.
        epochs=10,
        # The demo numbers (README) were measured with these; the trainer's defaults (4e-3,
        # word dropout 0.1) were tuned on CLINC150 and are not measured on small FAQ sets.
        learning_rate=2e-3,
        word_dropout=0.0,
        # One biGRU 128, not the trainer's 3-member ensemble (CLINC150 in-scope +0.5-0.6 pts):
        # on the demo an ensemble (2 x 96; 3 x 96 not measured there) ranked better (held-out
        # top-1 EN 0.646 -> 0.667) but abstained worse (cross-validated accuracy 0.648 ->
        # 0.621, unanswerable declined 82 % -> 65 %), one seed each (app.demo.measure).
        hidden_size=128,
        members=1,
        # A safety net for pathologically slow machines only (keeps the best epoch so far):
        # the demo needs ~30 s of one core, and fewer epochs decline fewer unrelated questions.
        max_train_seconds=300.0,
        # One thread: ~30-40 s of CPU for the demo. A second thread gains little on a model
        # this small and, on a busy machine, made training several times slower (spinning);
        # POST /admin/retrain also uses this recipe beside /ask in the serving process.
        num_threads=1,
    )


@dataclass(frozen=True)
class BootstrapConfig:
    train: TrainConfig = field(default_factory=first_start_train_config)
    # None trains on the stored phrasings only.
    augment: AugmentConfig | None = field(default_factory=AugmentConfig)
    # CLINC150's protocol: the share of questions handled right (answered with the right FAQ,
    # or not answered when no FAQ fits); `precision` + target trades coverage for safety.
    objective: Objective = "accuracy"
    target: float | None = None
    # Whether an empty store gets the demo FAQs (False: start with an empty help centre).
    import_demo: bool = True


@dataclass
class BootstrapReport:
    imported_faqs: int = 0
    trained: bool = False
    train_seconds: float | None = None
    model_path: Path | None = None
    threshold_tuned: bool = False
    threshold: float | None = None
    # "all" and one entry per demo language: rates at the chosen threshold.
    tuning_metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    curve_png: Path | None = None
    messages: list[str] = field(default_factory=list)

    @property
    def did_work(self) -> bool:
        return bool(self.imported_faqs or self.trained or self.threshold_tuned)


class BootstrapError(Exception):
    """First-start preparation cannot proceed; the message says what to do instead."""


def _stderr(message: str) -> None:
    print(f"samesay: {message}", file=sys.stderr, flush=True)


def ensure_ready(
    settings: Settings,
    config: BootstrapConfig | None = None,
    progress: bool = True,
    echo: Echo = _stderr,
) -> BootstrapReport:
    """Bring a data directory to a servable state; a no-op (a few queries) when it is."""
    config = config or BootstrapConfig()
    report = BootstrapReport()

    def say(message: str) -> None:
        report.messages.append(message)
        echo(message)

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with _bootstrap_lock(settings.data_dir), _open_store(settings) as store:
        model_present = _model_present(settings, store)
        if not model_present and config.import_demo and store.count() == 0:
            report.imported_faqs = _import_demo(store)
            say(f"empty store: imported {report.imported_faqs} demo FAQs (Lumen Market, EN + ZH)")
        if not model_present:
            report.model_path, report.train_seconds = _train_first_model(
                settings, store, config, progress, say
            )
            report.trained = True
        if store.get_threshold() is None:
            _tune_demo_threshold(settings, store, config, report, say)
    return report


# ---- steps ------------------------------------------------------------------------------------


def _model_present(settings: Settings, store: FaqStore) -> bool:
    """A checkpoint at the model path, or a retrained active model on this machine."""
    if (settings.resolved_model_path / META_FILE).is_file():
        return True
    active = store.get_active_model()
    return bool(active) and (checkpoint_dir(settings, active) / META_FILE).is_file()


def demo_drafts(languages: tuple[DemoLanguage, ...] = LANGUAGES) -> list[FaqDraft]:
    """The demo FAQs as store drafts: held-out phrasings are left out on purpose."""
    return [
        FaqDraft(faq.question, faq.answer, faq.alternates, faq.tags)
        for language in languages
        for faq in load_faqs(language)
    ]


def _import_demo(store: FaqStore) -> int:
    return len(store.add(demo_drafts()))


def _train_first_model(
    settings: Settings,
    store: FaqStore,
    config: BootstrapConfig,
    progress: bool,
    say: Echo,
) -> tuple[Path, float]:
    groups = [list(entry.phrasings) for entry in store.iter_entries()]
    if len(groups) < 2:
        raise BootstrapError(
            f"no model at {settings.resolved_model_path} and the store has {len(groups)} FAQ "
            "entries; training needs at least 2 (add FAQs with `samesay import`, or set "
            "SAMESAY_MODEL_PATH to a trained checkpoint)"
        )
    training_groups = augment_groups(groups, config.augment) if config.augment else groups
    sentences = sum(len(group) for group in training_groups)
    say(
        f"no model yet: training one from {len(groups)} FAQ entries ({sentences} phrasings "
        f"with noisy copies); about a minute on 2 CPU cores"
    )
    target = settings.resolved_model_path
    target.parent.mkdir(parents=True, exist_ok=True)
    # Train beside the target and rename: a crash never leaves a half-written model that a
    # later start would take for a finished one.
    scratch = target.parent / f".{target.name}.training-{uuid.uuid4().hex}"
    started = time.perf_counter()
    try:
        train_encoder(training_groups, scratch, config.train, progress=progress)
        os.replace(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    seconds = time.perf_counter() - started
    say(f"model trained in {seconds:.0f} s and saved to {target}")
    return target, seconds


def _tune_demo_threshold(
    settings: Settings,
    store: FaqStore,
    config: BootstrapConfig,
    report: BootstrapReport,
    say: Echo,
) -> None:
    entries = list(store.iter_entries())
    examples = demo_tuning_examples(entries)
    if not examples:
        say(
            "threshold left at the default: the store holds no demo FAQs to tune it on; tune "
            "it from your own labelled questions with POST /admin/threshold/tune"
        )
        return
    encoder = load_serving_encoder(settings, store)
    questions = [question for question, _, _ in examples]
    scores, predicted = best_matches(encoder, entries, questions)
    gold = [faq_id for _, faq_id, _ in examples]
    choice = tune_threshold(scores, predicted, gold, config.objective, config.target)
    store.set_threshold(choice.threshold)
    report.threshold_tuned = True
    report.threshold = choice.threshold
    report.tuning_metrics["all"] = choice.metrics
    languages = [language for _, _, language in examples]
    for language in dict.fromkeys(languages):
        mask = np.array([lang == language for lang in languages])
        subset_gold = [g for g, keep in zip(gold, mask, strict=True) if keep]
        report.tuning_metrics[language] = rates_at(
            choice.threshold, scores[mask], predicted[mask], subset_gold
        )
    report.curve_png = plot_threshold_curve(choice, settings.data_dir / CURVE_FILE)
    (settings.data_dir / TUNING_FILE).write_text(
        json.dumps(
            {
                "objective": config.objective,
                "target": config.target,
                "threshold": choice.threshold,
                "examples": len(examples),
                "metrics": report.tuning_metrics,
                "curve": choice.curve.rows(),
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    all_rates = report.tuning_metrics["all"]
    say(
        f"threshold tuned on {len(examples)} held-out and unanswerable demo questions "
        f"({config.objective}): {choice.threshold:.3f} — answered correctly "
        f"{all_rates['answered_correctly_rate']:.0%}, wrong answers "
        f"{all_rates['wrong_answer_rate']:.0%}, unanswerable declined "
        f"{all_rates['abstain_rate_out_of_scope']:.0%}; curve in {report.curve_png}"
    )


# ---- helpers (also used by the demo measurement script and the tests) ------------------------


def demo_tuning_examples(
    entries: list[FaqEntry], languages: tuple[DemoLanguage, ...] = LANGUAGES
) -> list[tuple[str, int | None, DemoLanguage]]:
    """(question, expected FAQ id or None, language) for every demo language whose FAQs are
    all in the store: held-out phrasings expect their FAQ, unanswerable questions None."""
    by_question = {entry.question: entry.id for entry in entries}
    examples: list[tuple[str, int | None, DemoLanguage]] = []
    for language in languages:
        faqs: list[DemoFaq] = load_faqs(language)
        # Compare as the store normalises (NFKC, trimmed), so ids map back exactly.
        ids = [by_question.get(FaqDraft(f.question, f.answer).question) for f in faqs]
        if any(faq_id is None for faq_id in ids):
            continue  # this language's demo was not imported (or was edited): no labels
        for faq, faq_id in zip(faqs, ids, strict=True):
            examples += [(text, faq_id, language) for text in faq.heldout]
        examples += [(q.question, None, language) for q in load_unanswerable(language)]
    return examples


def best_matches(
    encoder: SentenceEncoder, entries: list[FaqEntry], questions: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Best cosine and its FAQ id per question, over every stored phrasing.

    The same decision the searcher makes (exact inner product over unit vectors, best
    phrasing per FAQ), without building an index that `serve` builds right after anyway.
    """
    phrasings = [text for entry in entries for text in entry.phrasings]
    owners = np.array([entry.id for entry in entries for _ in entry.phrasings], dtype=np.int64)
    stored = encoder.encode(phrasings)  # (p, dim), unit rows
    asked = encoder.encode(questions)  # (q, dim), unit rows
    cosines = asked @ stored.T  # (q, p)
    best = cosines.argmax(axis=1)  # (q,)
    return cosines.max(axis=1).astype(np.float64), owners[best]


def rates_at(
    threshold: float, scores: np.ndarray, predicted: np.ndarray, gold: list[int | None]
) -> dict[str, float]:
    """Answered-correctly, wrong-answer and abstain rates at one threshold (one language)."""
    answered = scores >= threshold
    in_scope = np.array([g is not None for g in gold])
    correct = np.array(
        [g is not None and int(p) == g for p, g in zip(predicted, gold, strict=True)]
    )
    n_in, n_out = int(in_scope.sum()), int((~in_scope).sum())
    return {
        "answered_correctly_rate": float((answered & correct).sum() / max(n_in, 1)),
        # Share of all questions answered wrongly: a wrong FAQ, or any answer when none fits.
        "wrong_answer_rate": float((answered & ~correct).sum() / max(len(gold), 1)),
        "abstain_rate_out_of_scope": float((~answered & ~in_scope).sum() / max(n_out, 1)),
        "accuracy": float(((answered & correct) | (~answered & ~in_scope)).sum() / len(gold)),
    }


@contextmanager
def _open_store(settings: Settings) -> Iterator[FaqStore]:
    store = FaqStore(settings.resolved_database_url)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _bootstrap_lock(data_dir: Path) -> Iterator[None]:
    # Two `serve` processes started together would both see an empty store and import twice.
    with open(data_dir / _LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
