"""The rehearsal that learns a threshold from an FAQ set's own phrasings: the split it asks
(labels, what stays trained, what is put aside), a real rehearsal with a tiny model, and the
floor a base's threshold prior puts under what it learns."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import training.rehearsal
from training.augment import AugmentConfig
from training.recipes import FaqRecipe, scratch_train_config
from training.rehearsal import (
    Rehearsal,
    RehearsalConfig,
    rehearsal_splits,
    rehearse_threshold,
)
from training.trainer import TrainConfig

ONE = RehearsalConfig(folds=1)

FAQS = [
    [f"faq {i} phrasing {j}" for j in range(phrasings)]
    for i, phrasings in enumerate([1, 2, 3, 4, 5, 6, 7, 8, 9, 10] * 2)
]


def test_every_question_is_labelled_with_the_faq_it_was_taken_from() -> None:
    (split,) = rehearsal_splits(FAQS, ONE)
    owner = {text: i for i, group in enumerate(FAQS) for text in group}
    trained_owner = {owner[group[0]]: index for index, group in enumerate(split.groups)}
    for question, gold in zip(split.questions, split.gold, strict=True):
        if gold is None:
            # A near miss: its whole FAQ was put aside, so nothing it could match is trained.
            assert owner[question] not in trained_owner
        else:
            assert trained_owner[owner[question]] == gold
            assert question not in split.groups[gold]  # asked, never trained on


def test_kept_faqs_keep_their_first_phrasing_and_half_of_the_rest() -> None:
    (split,) = rehearsal_splits(FAQS, ONE)
    by_first = {group[0]: group for group in FAQS}
    for group in split.groups:
        original = by_first[group[0]]
        assert len(group) == 1 + (len(original) - 1) // 2
        assert set(group) <= set(original)
    asked = sum(g is not None for g in split.gold)
    assert asked == sum(len(by_first[g[0]]) - len(g) for g in split.groups)


def test_a_fifth_of_the_faqs_is_put_aside_and_all_their_phrasings_asked() -> None:
    (split,) = rehearsal_splits(FAQS, ONE)
    assert split.aside_faqs == 4 and len(split.groups) == 16
    trained_firsts = {group[0] for group in split.groups}
    aside = [group for group in FAQS if group[0] not in trained_firsts]
    assert split.no_answer == sum(len(group) for group in aside)


def test_each_fold_puts_other_faqs_aside() -> None:
    folds = rehearsal_splits(FAQS, RehearsalConfig(folds=3))
    assert len(folds) == 3
    trained = [{group[0] for group in split.groups} for split in folds]
    aside = [{group[0] for group in FAQS} - firsts for firsts in trained]
    assert all(len(faqs) == 4 for faqs in aside)
    assert not (aside[0] & aside[1]) and not (aside[1] & aside[2]) and not (aside[0] & aside[2])


def test_the_split_is_seeded() -> None:
    assert rehearsal_splits(FAQS) == rehearsal_splits(FAQS)
    assert rehearsal_splits(FAQS) != rehearsal_splits(FAQS, RehearsalConfig(seed=1))


def test_large_sets_are_sampled_down_to_max_faqs() -> None:
    many = [[f"faq {i} a", f"faq {i} b", f"faq {i} c"] for i in range(1000)]
    for split in rehearsal_splits(many, RehearsalConfig(max_faqs=50)):
        assert len(split.groups) + split.aside_faqs == 50


@pytest.mark.parametrize(
    ("faqs", "why"),
    [
        ([[f"only phrasing {i}"] for i in range(50)], "one phrasing each: nothing to ask"),
        ([["a", "b"], ["c", "d"]], "two FAQs: none to put aside"),
        ([[f"q{i}", f"r{i}"] for i in range(3)], "2 folds x 2 questions, fewer than 8"),
    ],
)
def test_too_few_questions_give_no_rehearsal(faqs: list[list[str]], why: str) -> None:
    assert rehearsal_splits(faqs) == [], why


TOPICS = ["refund", "password", "shipping", "invoice", "warranty", "delivery"]
TOPIC_FAQS = [
    [f"how do i get a {t}", f"question about {t}", f"help with {t} please", f"{t} issue"]
    for t in TOPICS
] + [
    [f"where is the {t} page", f"{t} page link", f"open the {t} page", f"find {t} page"]
    for t in TOPICS
]


@pytest.fixture(scope="module")
def tiny_recipe() -> FaqRecipe:
    tiny = replace(
        scratch_train_config(),
        encoder=replace(scratch_train_config().encoder, embedding_dim=16, hidden_size=16),
        epochs=2,
        min_steps=0,
        device="cpu",
        num_threads=1,
    )
    return FaqRecipe(train=tiny, augment=AugmentConfig(copies=1))


def test_a_rehearsal_trains_asks_and_tunes_on_its_own_questions(tiny_recipe: FaqRecipe) -> None:
    rehearsal = rehearse_threshold(TOPIC_FAQS, tiny_recipe, progress=False)
    assert rehearsal is not None and len(rehearsal.splits) == 2
    curve = rehearsal.choice.curve
    assert curve.n_in_scope == rehearsal.answerable == 2 * 20  # 10 FAQs x 2 asked, twice
    assert curve.n_out_of_scope == rehearsal.no_answer == 2 * 8  # 2 FAQs x 4 phrasings, twice
    assert -1.0 <= rehearsal.choice.threshold <= 1.001


def _rehearse(recipe: FaqRecipe, floor_at_base_prior: bool = True) -> Rehearsal:
    # A low precision target answers nearly everything: room for a floor above it.
    config = RehearsalConfig(floor_at_base_prior=floor_at_base_prior)
    rehearsal = rehearse_threshold(TOPIC_FAQS, recipe, "precision", 0.05, config, progress=False)
    assert rehearsal is not None
    return rehearsal


@pytest.fixture(scope="module")
def unfloored(tiny_recipe: FaqRecipe) -> Rehearsal:
    rehearsal = _rehearse(tiny_recipe, floor_at_base_prior=False)
    assert rehearsal.floor is None and not rehearsal.floored
    return rehearsal


def test_a_rehearsed_threshold_below_the_prior_is_raised_to_it(
    tiny_recipe: FaqRecipe, unfloored: Rehearsal, monkeypatch: pytest.MonkeyPatch
) -> None:
    curve = unfloored.choice.curve
    floor = float(np.median(curve.thresholds))
    assert unfloored.rehearsed < floor
    # The lookup alone is replaced: the tiny recipe starts from no base with a prior.
    monkeypatch.setattr(training.rehearsal, "threshold_floor", lambda init_from: floor)
    rehearsal = _rehearse(tiny_recipe)
    assert rehearsal.rehearsed == unfloored.rehearsed  # the same seeded rehearsal
    assert rehearsal.floored and rehearsal.floor == rehearsal.choice.threshold == floor
    # Its metrics are those at the floor: the rates of a candidate next to it on the curve.
    above = int(np.searchsorted(curve.thresholds, floor))
    assert rehearsal.choice.metrics in (curve.metrics_at(above - 1), curve.metrics_at(above))
    assert rehearsal.choice.metrics["coverage"] < unfloored.choice.metrics["coverage"]


def test_a_rehearsed_threshold_above_the_prior_is_kept(
    tiny_recipe: FaqRecipe, unfloored: Rehearsal, monkeypatch: pytest.MonkeyPatch
) -> None:
    floor = unfloored.rehearsed - 0.1
    monkeypatch.setattr(training.rehearsal, "threshold_floor", lambda init_from: floor)
    rehearsal = _rehearse(tiny_recipe)
    assert rehearsal.floor == floor and not rehearsal.floored
    assert rehearsal.choice.threshold == unfloored.rehearsed
    assert rehearsal.choice.metrics == unfloored.choice.metrics


def test_rehearsals_score_the_networks_a_distilled_model_learns_from(
    tiny_recipe: FaqRecipe, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The distilled network learns the networks' cosines: a rehearsal scores with them and
    # skips the distillation's time.
    distilling = replace(tiny_recipe, train=replace(tiny_recipe.train, distil_steps=50))
    assert distilling.train_config(TOPIC_FAQS).distil_steps == 50
    seen: list[TrainConfig] = []
    real_train = training.rehearsal.train_encoder

    def recording(groups, out, config, **kwargs):
        seen.append(config)
        return real_train(groups, out, config, **kwargs)

    monkeypatch.setattr(training.rehearsal, "train_encoder", recording)
    assert rehearse_threshold(TOPIC_FAQS, distilling, progress=False) is not None
    assert len(seen) == 2 and all(config.distil_steps == 0 for config in seen)
