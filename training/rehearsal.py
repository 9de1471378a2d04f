"""A rehearsal: the answer threshold of an FAQ set that comes with no labelled questions.

A threshold is learned from questions labelled with the FAQ they should get (or none), and
a customer's own FAQ set arrives with phrasings only. Its fine-tuned model's cosines for new
paraphrases sit far below the service's fixed default (0.4-0.5 where `samesay bench faq`
tunes it, against 0.75), so an untuned store declines nearly every question it could answer.

The rehearsal makes the labelled questions out of the FAQs themselves, as `samesay bench
faq` does: a fifth of the FAQs is put aside (their phrasings become near misses that must
get no answer, the hardest kind of question to decline), every other FAQ keeps its first
phrasing and half of the rest (rounded down) and is asked the others (an FAQ with two
phrasings is asked its second; one with a single phrasing is asked nothing), a model is trained on
what is kept exactly as the real one will be, and the threshold is tuned on those answers
(pooled over two such rehearsals, each with other FAQs put aside).
The real model then trains on everything; its scores for new questions are expected near
the rehearsal's, since both were asked phrasings they never saw. Where FAQs have one or two
phrasings they are not (each rehearsal model keeps fewer than the real one and errs low), so
a fine-tune of a base with a measured threshold prior never gets less than that prior
(training.threshold_prior).
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from model.checkpoint import load_encoder
from training.recipes import FaqRecipe
from training.threshold import (
    Objective,
    ThresholdChoice,
    best_group_matches,
    moved_to,
    tune_threshold,
)
from training.threshold_prior import threshold_floor
from training.trainer import TrainConfig, train_encoder


@dataclass(frozen=True)
class RehearsalConfig:
    # The share of FAQs put aside as near misses: bench faq's protocol.
    aside_share: float = 0.2
    # Rehearsals pooled, each with other FAQs put aside and other phrasings asked: one
    # rehearsal's choice moves with its split where FAQs have few phrasings to ask.
    folds: int = 2
    # FAQs sampled into a rehearsal (seeded): bounds its training time on large sets. Not
    # fewer: a rehearsal over fewer FAQs than the store has finds its questions easier (fewer
    # FAQs compete) and answers too readily. fin_cs_zh with 1,500 FAQs (bench faq, seeds 0
    # and 1): 300 FAQs -> thresholds 0.43 / 0.33, accuracy 0.242 / 0.206; all of them ->
    # 0.60 / 0.56, accuracy 0.348 / 0.328 (best 0.372 / 0.344).
    max_faqs: int = 2000
    # Fewer labelled questions than this (all folds) leave the threshold where it was: a
    # threshold tuned on a handful of answers is a guess of its own.
    min_answerable: int = 8
    min_no_answer: int = 4
    # Accuracy is weighed as if 3 in 4 questions had an FAQ. The rehearsal's own mix is set
    # by how many phrasings FAQs have (FAQs with one give no answerable question, all their
    # phrasings can be near misses), and its answerable questions are easier than real ones
    # (fewer FAQs compete); on bench faq's sets 0.75 came closest to the best threshold
    # (docs/quality.md, "A threshold for FAQs that come with no labelled questions").
    in_scope_share: float = 0.75
    # Raise a threshold below the prior of the base the fine-tune starts from to that prior
    # (training.threshold_prior).
    floor_at_base_prior: bool = True
    seed: int = 0


@dataclass(frozen=True)
class RehearsalSplit:
    groups: list[list[str]]  # what the rehearsal model trains on
    questions: list[str]
    gold: list[int | None]  # index into `groups`; None: must get no answer
    aside_faqs: int

    @property
    def answerable(self) -> int:
        return sum(g is not None for g in self.gold)

    @property
    def no_answer(self) -> int:
        return len(self.gold) - self.answerable


@dataclass(frozen=True)
class Rehearsal:
    choice: ThresholdChoice  # at the threshold the store gets, floor applied
    splits: list[RehearsalSplit]
    rehearsed: float  # what the rehearsal's questions alone chose
    floor: float | None = None  # the base's prior, when there is one

    @property
    def floored(self) -> bool:
        return self.choice.threshold != self.rehearsed

    @property
    def raised_from(self) -> float | None:
        """What the rehearsal alone chose, when the floor raised it."""
        return self.rehearsed if self.floored else None

    @property
    def answerable(self) -> int:
        return sum(split.answerable for split in self.splits)

    @property
    def no_answer(self) -> int:
        return sum(split.no_answer for split in self.splits)


def rehearsal_splits(
    groups: Sequence[Sequence[str]], config: RehearsalConfig = RehearsalConfig()
) -> list[RehearsalSplit]:
    """One split per fold, each putting aside the next FAQs in a seeded order; empty when
    too few questions can be made (FAQs with one phrasing each give no answerable one)."""
    rng = random.Random(config.seed)
    chosen = [list(group) for group in groups if group]
    if len(chosen) > config.max_faqs:
        chosen = rng.sample(chosen, config.max_faqs)
    rng.shuffle(chosen)
    aside_count = min(len(chosen) - 2, max(1, round(config.aside_share * len(chosen))))
    if aside_count < 1:
        return []
    splits = []
    for fold in range(config.folds):
        turn = fold * aside_count % len(chosen)
        order = chosen[turn:] + chosen[:turn]
        splits.append(_split(order[aside_count:], order[:aside_count], rng))
    answerable = sum(split.answerable for split in splits)
    no_answer = sum(split.no_answer for split in splits)
    if answerable < config.min_answerable or no_answer < config.min_no_answer:
        return []
    return splits


def _split(kept: list[list[str]], aside: list[list[str]], rng: random.Random) -> RehearsalSplit:
    trained: list[list[str]] = []
    questions: list[str] = []
    gold: list[int | None] = []
    for index, group in enumerate(kept):
        first, rest = group[0], group[1:]
        rng.shuffle(rest)
        stay = len(rest) // 2
        trained.append([first, *rest[:stay]])
        questions += rest[stay:]
        gold += [index] * (len(rest) - stay)
    for group in aside:
        questions += group
        gold += [None] * len(group)
    return RehearsalSplit(trained, questions, gold, len(aside))


def rehearse_threshold(
    groups: Sequence[Sequence[str]],
    recipe: FaqRecipe,
    objective: Objective = "accuracy",
    target: float | None = None,
    config: RehearsalConfig = RehearsalConfig(),
    progress: bool = True,
) -> Rehearsal | None:
    """Train a rehearsal model per fold on part of `groups`, ask it the rest, tune the
    threshold on all folds' answers. None when the FAQs give too few questions."""
    splits = rehearsal_splits(groups, config)
    if not splits:
        return None
    # The kind of model the whole set gets (one network, or the base kept beside it): a
    # split with fewer phrasings per FAQ must not pick another kind than the real model.
    # Not distilled: the distilled network learns the networks' cosines, so theirs stand in
    # for its scores at a fraction of the time (docs/quality.md, "One network for every
    # FAQ set").
    train = replace(recipe.train_config(groups), distil_steps=0)
    scores: list[float] = []
    predicted: list[int] = []
    gold: list[int | None] = []
    offset = 0  # each fold's FAQ indices move past the previous folds', so that they pool
    for split in splits:
        found, best = _ask(split, recipe, train, progress)
        scores += found.tolist()
        predicted += (best + offset).tolist()
        gold += [None if g is None else g + offset for g in split.gold]
        offset += len(split.groups)
    choice = tune_threshold(scores, predicted, gold, objective, target, config.in_scope_share)
    rehearsed = choice.threshold
    floor = threshold_floor(train.init_from) if config.floor_at_base_prior else None
    if floor is not None and rehearsed < floor:
        # Only ever raised (fewer answers); its metrics and target are read at the floor.
        choice = moved_to(choice, floor, scores, predicted, gold)
    return Rehearsal(choice, splits, rehearsed, floor)


def _ask(
    split: RehearsalSplit, recipe: FaqRecipe, train: TrainConfig, progress: bool
) -> tuple[np.ndarray, np.ndarray]:
    scratch = Path(tempfile.mkdtemp(prefix="samesay-rehearsal-"))
    try:
        checkpoint = train_encoder(
            recipe.training_groups(split.groups), scratch / "model", train, progress=progress
        )
        return best_group_matches(load_encoder(checkpoint), split.groups, split.questions)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
