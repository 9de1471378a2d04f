"""FAQ sets for `samesay bench faq`: paraphrase groups (or the demo) split into FAQs + questions.

The "user brings their own FAQ set" protocol, for a dataset of paraphrase groups:
- 20 % of the groups (seeded) are put aside: no FAQ is made of them, and every phrasing of
  theirs is asked as a *near miss* that must get no answer.
- Every other group becomes one FAQ. Where the group has both `train` and other rows in the
  split column, its train rows are the FAQ and the rest are asked; otherwise its phrasings
  are shuffled (seeded), the first half rounded up are the FAQ (question + alternates) and the
  rest are asked. A single-phrasing group is an FAQ with nothing to ask (a distractor).
- Phrasings are deduplicated by `model.text.normalize`; a question whose normalised text is
  some FAQ's phrasing, was asked already, or belongs to two groups is dropped.
- An FAQ keeps at most the store's 1 + 100 phrasings; the surplus is neither stored nor asked.
- The dataset's own out-of-scope sentences (CLINC150's oos_val and oos_test, an `oos.txt`
  beside the groups; never a `train` split) are asked too, as questions that must get no
  answer: real off-topic traffic, beside the near misses.

The demo set (app/demo) is split by hand already: FAQs = question + alternates, asked =
held-out phrasings (their FAQ) + unanswerable questions (no answer).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.demo import LANGUAGES, load_faqs, load_unanswerable
from model.text import normalize
from store.entries import LIMITS
from training.readers import read_dataset

ASIDE_FRACTION = 0.2
TRAIN_SPLIT = "train"
# The store's limits: longer phrasings would be rejected by the import, more would not fit.
MAX_PHRASINGS = 1 + LIMITS.alternates
MAX_CHARS = min(LIMITS.question_chars, LIMITS.alternate_chars)


@dataclass(frozen=True)
class Faq:
    question: str
    alternates: tuple[str, ...]

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.alternates)


@dataclass(frozen=True)
class Question:
    text: str
    gold: int | None  # index into FaqSet.faqs; None = must get no answer


@dataclass
class FaqSet:
    name: str
    faqs: list[Faq]
    questions: list[Question]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def answerable(self) -> int:
        return sum(q.gold is not None for q in self.questions)


Row = tuple[str, str | None]  # (sentence, split)


def split_groups(
    name: str,
    groups: dict[str, list[Row]],
    seed: int,
    max_groups: int | None = None,
    aside_fraction: float = ASIDE_FRACTION,
    max_phrasings: int | None = None,
    out_of_scope: Sequence[str] = (),
) -> FaqSet:
    """The protocol above over `groups` (group id → rows in file order); seeded, repeatable.
    `max_phrasings` keeps at most that many phrasings per FAQ (the rest of the stored half is
    dropped, not asked): the few-phrasings FAQ sets customers write. `out_of_scope`
    sentences are asked as questions with no answer."""
    keep = MAX_PHRASINGS if max_phrasings is None else min(max_phrasings, MAX_PHRASINGS)
    rng = random.Random(seed)
    ids = sorted(groups)
    rng.shuffle(ids)
    if max_groups is not None:
        ids = ids[:max_groups]
    n_aside = round(aside_fraction * len(ids))
    aside, kept = ids[:n_aside], sorted(ids[n_aside:])
    faqs: list[Faq] = []
    asked: list[tuple[str, int | None]] = []
    counts = {"groups": len(ids), "aside_groups": n_aside, "surplus_dropped": 0}
    for group_id in kept:
        stored, rest = _halves(_unique(groups[group_id]), rng)
        counts["surplus_dropped"] += max(len(stored) - keep, 0)
        stored = stored[:keep]
        asked += [(text, len(faqs)) for text in rest]
        faqs.append(Faq(stored[0], tuple(stored[1:])))
    for group_id in sorted(aside):
        asked += [(text, None) for text, _ in _unique(groups[group_id])]
    off_topic = _unique([(text, None) for text in out_of_scope])
    counts["out_of_scope"] = len(off_topic)
    asked += [(text, None) for text, _ in off_topic]
    return _finish(name, faqs, asked, counts)


def _unique(rows: Sequence[Row]) -> list[Row]:
    """Rows with distinct normalised text (first kept) that the store accepts."""
    seen: set[str] = set()
    out = []
    for text, split in rows:
        key = normalize(text)
        if key and key not in seen and len(text.strip()) <= MAX_CHARS:
            seen.add(key)
            out.append((text.strip(), split))
    return out


def _halves(rows: list[Row], rng: random.Random) -> tuple[list[str], list[str]]:
    """(FAQ phrasings, asked phrasings) of one kept group."""
    train = [text for text, split in rows if split == TRAIN_SPLIT]
    if train and len(train) < len(rows):
        return train, [text for text, split in rows if split != TRAIN_SPLIT]
    texts = [text for text, _ in rows]
    rng.shuffle(texts)
    cut = math.ceil(len(texts) / 2)
    return texts[:cut], texts[cut:]


def _finish(
    name: str,
    faqs: list[Faq],
    asked: list[tuple[str, int | None]],
    counts: dict[str, int],
) -> FaqSet:
    stored = {normalize(text) for faq in faqs for text in faq.phrasings}
    golds: dict[str, set[int | None]] = {}
    for text, gold in asked:
        golds.setdefault(normalize(text), set()).add(gold)
    questions, seen = [], set()
    for text, gold in asked:
        key = normalize(text)
        # Asked twice (or with two answers, when groups share a sentence) tests nothing new.
        if key not in stored and key not in seen and len(golds[key]) == 1:
            seen.add(key)
            questions.append(Question(text, gold))
    counts["duplicates_dropped"] = len(asked) - len(questions)
    counts["faqs"] = len(faqs)
    return FaqSet(name, faqs, questions, counts)


def load_group_set(
    folder: Path, seed: int, max_groups: int | None, max_phrasings: int | None = None
) -> FaqSet:
    """A dataset folder (groups.tsv, CLINC150's data_full.json, ...: training.readers),
    split by the protocol, with its out-of-scope sentences as no-answer questions."""
    dataset = read_dataset(Path(folder))
    groups: dict[str, list[Row]] = {}
    for example in dataset.examples:
        groups.setdefault(example.group, []).append((example.text, example.split))
    # A `train` split of off-topic sentences is for training a rejecter; none is trained here.
    out_of_scope = [
        text for split, texts in dataset.out_of_scope.items() if split != "train" for text in texts
    ]
    return split_groups(
        dataset.name,
        groups,
        seed,
        max_groups,
        max_phrasings=max_phrasings,
        out_of_scope=out_of_scope,
    )


def demo_set(max_phrasings: int | None = None) -> FaqSet:
    """The demo help centre, both languages: held-out phrasings and unanswerable questions;
    each FAQ keeps at most `max_phrasings` of its phrasings (question first) when given."""
    alternates = None if max_phrasings is None else max(max_phrasings - 1, 0)
    faqs: list[Faq] = []
    asked: list[tuple[str, int | None]] = []
    for language in LANGUAGES:
        for demo_faq in load_faqs(language):
            asked += [(text, len(faqs)) for text in demo_faq.heldout]
            faqs.append(Faq(demo_faq.question, tuple(demo_faq.alternates)[:alternates]))
        asked += [(q.question, None) for q in load_unanswerable(language)]
    return _finish("demo", faqs, asked, {"groups": len(faqs), "aside_groups": 0})


def cap_questions(faq_set: FaqSet, max_questions: int | None, seed: int) -> FaqSet:
    """A seeded sample of at most `max_questions` questions (order kept); the FAQs stay."""
    if max_questions is None or len(faq_set.questions) <= max_questions:
        return faq_set
    keep = sorted(random.Random(seed).sample(range(len(faq_set.questions)), max_questions))
    counts = {**faq_set.counts, "questions_capped_from": len(faq_set.questions)}
    return FaqSet(faq_set.name, faq_set.faqs, [faq_set.questions[i] for i in keep], counts)
