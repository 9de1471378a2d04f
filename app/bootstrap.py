"""First start: import the demo help centre, train the first model, tune the threshold.

`samesay serve` calls `ensure_ready(settings)` before the service loads. Each step runs only
when its result is missing, so later starts do nothing heavy:

1. The store is empty and no model exists → import the bundled demo FAQs (question,
   alternates and tags; never the held-out phrasings).
2. No checkpoint at `settings.resolved_model_path` (and no retrained active model) → train
   one from the store's entries (each entry's phrasings = one group), plus seeded noisy
   copies of every phrasing (`training.recipes.FaqRecipe`), written atomically.
3. No threshold in the store → learn it, store it, and write the curve to
   `<data_dir>/threshold_curve.png`. With the demo FAQs: from the demo's held-out phrasings
   (should get their FAQ) and unanswerable questions (should get nothing). With your own
   FAQs, which come with no labelled questions: from a rehearsal (`training.rehearsal`: a
   model trained the same way on part of your FAQs, asked the phrasings it did not see and
   those of FAQs put aside), run beside step 2 in a second process when 2 CPU cores or more
   are there (app.train_child), else before it.

Your own FAQs are never mixed with the demo: a non-empty store skips step 1. When your FAQs
give too few questions for a rehearsal (most have one phrasing) or the model was not trained
here, the threshold stays at the default until you tune it (POST /admin/threshold/tune). A
lock file in the data directory keeps two processes on one machine from bootstrapping at
the same time.
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
from functools import partial
from pathlib import Path

import numpy as np

from app.config import Settings
from app.demo import LANGUAGES, DemoLanguage, load_faqs
from app.demo_labels import demo_tuning_examples
from app.last_tuning import (
    DEMO_SOURCE,
    REHEARSAL_SOURCE,
    floor_note,
    mark_learned,
    operator_chose_threshold,
)
from app.model_files import checkpoint_dir, load_serving_encoder
from app.train_child import (
    ChildJob,
    RehearsalJob,
    RehearsalResult,
    TrainingFailed,
    start_rehearsal,
)
from model.base_model import shipped_base_path
from model.checkpoint import META_FILE, load_encoder
from store.entries import FaqDraft, FaqEntry
from store.faq_store import FaqStore
from training.recipes import FaqRecipe
from training.rehearsal import Rehearsal, RehearsalConfig, rehearsal_splits, rehearse_threshold
from training.threshold import (
    Objective,
    ThresholdChoice,
    best_matches,
    plot_threshold_curve,
    rates_at,
    storable,
    tune_threshold,
)
from training.trainer import train_encoder

Echo = Callable[[str], None]

CURVE_FILE = "threshold_curve.png"
TUNING_FILE = "threshold_tuning.json"
_LOCK_FILE = ".bootstrap.lock"


@dataclass(frozen=True)
class BootstrapConfig:
    recipe: FaqRecipe = field(default_factory=FaqRecipe)
    # CLINC150's protocol: the share of questions handled right (answered with the right FAQ,
    # or not answered when no FAQ fits); `precision` + target trades coverage for safety.
    objective: Objective = "accuracy"
    target: float | None = None
    # Whether an empty store gets the demo FAQs (False: start with an empty help centre).
    import_demo: bool = True
    rehearsal: RehearsalConfig = field(default_factory=RehearsalConfig)
    # False: a store holding the demo FAQs learns its threshold by rehearsal too (bench faq,
    # whose demo questions are the held-out phrasings the demo tuning would use).
    tune_on_demo: bool = True
    # Your own FAQs' rehearsal in a second process beside the real fine-tune, both on one
    # thread, so that the first start takes the longer of the two instead of their sum
    # (docs/quality.md, "The rehearsal beside the fine-tune"). None: when this process may
    # run on 2 CPU cores or more; False: before the fine-tune, in this process.
    rehearse_beside: bool | None = None


@dataclass
class BootstrapReport:
    imported_faqs: int = 0
    trained: bool = False
    train_seconds: float | None = None
    model_path: Path | None = None
    threshold_tuned: bool = False
    threshold: float | None = None
    # What the threshold was learned from: app.last_tuning's DEMO_SOURCE or REHEARSAL_SOURCE.
    threshold_source: str | None = None
    rehearsal_seconds: float | None = None
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


def settings_bootstrap_config(settings: Settings) -> BootstrapConfig:
    """The first start `samesay serve` runs: the default recipe with the operator's choices."""
    return BootstrapConfig(
        recipe=FaqRecipe(
            keep_base_max_phrasings=settings.keep_base_max_phrasings,
            members=settings.faq_members,
        ),
        rehearse_beside=settings.rehearse_beside,
    )


def ensure_ready(
    settings: Settings,
    config: BootstrapConfig | None = None,
    progress: bool = True,
    echo: Echo = _stderr,
) -> BootstrapReport:
    """Bring a data directory to a servable state; a no-op (a few queries) when it is."""
    config = config or settings_bootstrap_config(settings)
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
        rehearsed = False
        if not model_present:
            # Before or beside the real training (stored as soon as it is learned), so that
            # a start which dies while training finds the threshold learned and does not
            # rehearse again.
            entries = list(store.iter_entries())
            demo_labels = config.tune_on_demo and bool(demo_tuning_examples(entries))
            chosen = store.get_threshold() is not None or operator_chose_threshold(settings)
            beside = None
            if not chosen and not demo_labels:
                beside = _rehearse_before_or_beside(
                    settings, store, entries, config, report, progress, say
                )
                rehearsed = True
            report.model_path, report.train_seconds = _train_beside_rehearsal(
                beside, settings, store, config, progress, say
            )
            report.trained = report.train_seconds is not None  # None: the base as it is
        if store.get_threshold() is None and not rehearsed:
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
    on_progress: Callable[[float, str], None] | None = None,
) -> tuple[Path, float | None]:
    groups = [list(entry.phrasings) for entry in store.iter_entries()]
    base = shipped_base_path()
    if len(groups) < 2 and base is not None:
        return _serve_base_model(settings, base, say), None
    if len(groups) < 2:
        raise BootstrapError(
            f"no model at {settings.resolved_model_path} and the store has {len(groups)} FAQ "
            "entries; training needs at least 2 (add FAQs with `samesay import`, or set "
            "SAMESAY_MODEL_PATH to a trained checkpoint)"
        )
    training_groups = config.recipe.training_groups(groups)
    sentences = sum(len(group) for group in training_groups)
    say(
        f"no model yet: training one from {len(groups)} FAQ entries ({sentences} phrasings "
        f"with noisy copies); a minute or a few on 2 CPU cores, more for larger sets"
    )
    target = settings.resolved_model_path
    target.parent.mkdir(parents=True, exist_ok=True)
    # Train beside the target and rename: a crash never leaves a half-written model that a
    # later start would take for a finished one.
    scratch = target.parent / f".{target.name}.training-{uuid.uuid4().hex}"
    started = time.perf_counter()
    try:
        train_encoder(
            training_groups,
            scratch,
            config.recipe.train_config(groups),
            progress=progress,
            on_progress=on_progress,
        )
        os.replace(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    seconds = time.perf_counter() - started
    say(f"model trained in {seconds:.0f} s and saved to {target}")
    return target, seconds


def _train_beside_rehearsal(
    beside: _RehearsalBeside | None,
    settings: Settings,
    store: FaqStore,
    config: BootstrapConfig,
    progress: bool,
    say: Echo,
) -> tuple[Path, float | None]:
    """`_train_first_model`, looking at the rehearsal beside it (if any) on every step."""
    if beside is None:
        return _train_first_model(settings, store, config, progress, say)
    try:
        trained = _train_first_model(settings, store, config, progress, say, beside.check)
    except Exception:
        # The next start finds the threshold learned; a failed child is not rehearsed
        # again here (whatever stopped the training would likely stop that too).
        beside.finish(rehearse_here_on_failure=False)
        raise
    except BaseException:  # interrupted: the rehearsal stops with the training
        beside.stop()
        raise
    beside.finish()
    return trained


def _serve_base_model(settings: Settings, base: Path, say: Echo) -> Path:
    """Too few FAQs to fine-tune on: the shipped base model serves as it is (copied, so that
    the data directory stays self-contained and a package upgrade never swaps it)."""
    target = settings.resolved_model_path
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.parent / f".{target.name}.copying-{uuid.uuid4().hex}"
    try:
        shutil.copytree(base, scratch)
        os.replace(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    say(f"fewer than 2 FAQ entries: serving the base model as it is ({target})")
    return target


def _rehearses_beside(config: BootstrapConfig) -> bool:
    if config.rehearse_beside is not None:
        return config.rehearse_beside
    try:
        cpus = len(os.sched_getaffinity(0))  # what this process may use (taskset, cpusets)
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return cpus >= 2


def _rehearse_before_or_beside(
    settings: Settings,
    store: FaqStore,
    entries: list[FaqEntry],
    config: BootstrapConfig,
    report: BootstrapReport,
    progress: bool,
    say: Echo,
) -> _RehearsalBeside | None:
    """Rehearse now, or start the rehearsal beside the training and return it."""
    groups = [list(entry.phrasings) for entry in entries]
    rehearse_here = partial(
        _rehearse_threshold, settings, store, groups, config, report, progress, say
    )
    if _rehearses_beside(config) and rehearsal_splits(groups, config.rehearsal):
        record = partial(_record_rehearsal, settings, store, groups, config, report, say=say)
        return _RehearsalBeside(groups, config, record, rehearse_here, say)
    rehearse_here()  # also says why too few questions give no rehearsal
    return None


def _rehearse_threshold(
    settings: Settings,
    store: FaqStore,
    groups: list[list[str]],
    config: BootstrapConfig,
    report: BootstrapReport,
    progress: bool,
    say: Echo,
) -> None:
    _announce_rehearsal(groups, say)
    started = time.perf_counter()
    rehearsal = rehearse_threshold(
        groups, config.recipe, config.objective, config.target, config.rehearsal, progress
    )
    seconds = time.perf_counter() - started
    _record_rehearsal(settings, store, groups, config, report, rehearsal, seconds, say=say)


def _announce_rehearsal(groups: list[list[str]], say: Echo, beside: bool = False) -> None:
    where = " in a second process, beside the training" if beside else ""
    say(
        f"your FAQs come with no labelled questions: learning the answer threshold from "
        f"rehearsals (models trained on part of your {len(groups)} FAQs, asked the rest)"
        f"{where}"
    )


class _RehearsalBeside:
    """The rehearsal in a child process (app.train_child) while this one trains the real
    model: looked at on every training step, and `record`ed as soon as it comes. When the
    child fails, `rehearse_here` runs it in this process after the training."""

    def __init__(
        self,
        groups: list[list[str]],
        config: BootstrapConfig,
        record: Callable[[Rehearsal | None, float], None],
        rehearse_here: Callable[[], None],
        say: Echo,
    ) -> None:
        self._record, self._rehearse_here, self._say = record, rehearse_here, say
        _announce_rehearsal(groups, say, beside=True)
        job = RehearsalJob(
            groups,
            config.recipe,
            config.objective,
            config.target,
            config.rehearsal,
            config.recipe.train.num_threads,
        )
        self._job: ChildJob | None = start_rehearsal(job)
        self._failure: TrainingFailed | None = None

    def check(self, fraction: float = 0.0, message: str = "") -> None:
        """A training progress callback: record the rehearsal if it has come."""
        if self._job is None:
            return
        try:
            payload = self._job.poll()
        except TrainingFailed as failure:
            self._failure = failure
            self.stop()
            return
        if payload is not None:
            self.stop()
            self._record_result(payload[0])

    def finish(self, rehearse_here_on_failure: bool = True) -> None:
        """After the training: wait for the rehearsal and record it (or rehearse here)."""
        if self._job is not None:
            try:
                payload = self._job.poll()
                if payload is None:
                    self._say("waiting for the rehearsal beside the training to finish")
                    payload = self._job.result()
            except TrainingFailed as failure:
                self._failure = failure
            else:
                self._record_result(payload[0])
            finally:
                self.stop()
        if self._failure is not None and rehearse_here_on_failure:
            self._say(
                f"the rehearsal beside the training failed ({self._failure}); rehearsing here"
            )
            self._failure = None
            self._rehearse_here()

    def stop(self) -> None:
        if self._job is not None:
            self._job.stop()
            self._job = None

    def _record_result(self, result: RehearsalResult) -> None:
        self._record(result.rehearsal, result.seconds)


def _record_rehearsal(
    settings: Settings,
    store: FaqStore,
    groups: list[list[str]],
    config: BootstrapConfig,
    report: BootstrapReport,
    rehearsal: Rehearsal | None,
    seconds: float,
    *,
    say: Echo,
) -> None:
    report.rehearsal_seconds = seconds
    if rehearsal is None:
        minimum = config.rehearsal
        say(
            f"threshold left at the default ({settings.default_threshold}): {len(groups)} FAQs "
            f"give too few questions for a rehearsal (it needs {minimum.min_answerable} spare "
            f"phrasings and {minimum.min_no_answer} of FAQs put aside; an FAQ with one "
            "phrasing has none to spare); tune it from your own labelled questions with "
            "POST /admin/threshold/tune"
        )
        return
    _store_tuning(settings, store, config, report, rehearsal.choice, REHEARSAL_SOURCE)
    rates = rehearsal.choice.metrics
    first = rehearsal.splits[0]
    say(
        f"threshold learned from {len(rehearsal.splits)} rehearsals, each trained on "
        f"{len(first.groups)} of your FAQs and asked the phrasings it did not see and those of "
        f"{first.aside_faqs} FAQs put aside ({rehearsal.answerable} + {rehearsal.no_answer} "
        f"questions, {config.objective}): {rehearsal.choice.threshold:.3f}"
        f"{floor_note(rehearsal.raised_from)} — answered "
        f"correctly {rates['answered_correctly_rate']:.0%}, wrong answers "
        f"{rates['wrong_answer_rate']:.0%}, declined {rates['abstain_rate_out_of_scope']:.0%} "
        f"of those that fit no FAQ; {seconds:.0f} s; curve in {report.curve_png}"
    )


def _tune_demo_threshold(
    settings: Settings,
    store: FaqStore,
    config: BootstrapConfig,
    report: BootstrapReport,
    say: Echo,
) -> None:
    entries = list(store.iter_entries())
    examples = demo_tuning_examples(entries)
    if not examples and operator_chose_threshold(settings):
        say(f"threshold: SAMESAY_DEFAULT_THRESHOLD={settings.default_threshold} applies")
        return
    if not examples:
        say(
            "threshold left at the default: the store holds no demo FAQs to tune it on and "
            "its model was not trained here; tune it from your own labelled questions with "
            "POST /admin/threshold/tune"
        )
        return
    # The torch encoder, as before serving went NumPy: the tuned threshold stays the same.
    encoder = load_serving_encoder(settings, store, load_encoder)
    questions = [question for question, _, _ in examples]
    scores, predicted = best_matches(encoder, entries, questions)
    gold = [faq_id for _, faq_id, _ in examples]
    choice = tune_threshold(scores, predicted, gold, config.objective, config.target)
    report.tuning_metrics["all"] = choice.metrics
    languages = [language for _, _, language in examples]
    for language in dict.fromkeys(languages):
        mask = np.array([lang == language for lang in languages])
        subset_gold = [g for g, keep in zip(gold, mask, strict=True) if keep]
        report.tuning_metrics[language] = rates_at(
            choice.threshold, scores[mask], predicted[mask], subset_gold
        )
    _store_tuning(settings, store, config, report, choice, DEMO_SOURCE)
    all_rates = report.tuning_metrics["all"]
    say(
        f"threshold tuned on {len(examples)} held-out and unanswerable demo questions "
        f"({config.objective}): {choice.threshold:.3f} — answered correctly "
        f"{all_rates['answered_correctly_rate']:.0%}, wrong answers "
        f"{all_rates['wrong_answer_rate']:.0%}, unanswerable declined "
        f"{all_rates['abstain_rate_out_of_scope']:.0%}; curve in {report.curve_png}"
    )


def _store_tuning(
    settings: Settings,
    store: FaqStore,
    config: BootstrapConfig,
    report: BootstrapReport,
    choice: ThresholdChoice,
    source: str,
) -> None:
    """Store the threshold, marked as the service's own (a retrain learns it again for its
    model); keep its curve as a PNG and as the JSON the console draws."""
    threshold = storable(choice.threshold)
    store.set_threshold(threshold)
    mark_learned(store, threshold)
    report.threshold_tuned = True
    report.threshold = threshold
    report.threshold_source = source
    report.tuning_metrics["all"] = choice.metrics
    report.curve_png = plot_threshold_curve(choice, settings.data_dir / CURVE_FILE)
    (settings.data_dir / TUNING_FILE).write_text(
        json.dumps(
            {
                "objective": config.objective,
                "target": config.target,
                "threshold": threshold,
                "examples": choice.curve.n_examples,
                "in_scope": choice.curve.n_in_scope,
                "out_of_scope": choice.curve.n_out_of_scope,
                "source": source,
                "metrics": report.tuning_metrics,
                "curve": choice.curve.rows(),
            },
            indent=2,
        ),
        encoding="utf-8",
    )


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
