"""Synthetic English requests for distillation: the licence-clean requests are all about a
few assistant domains (restaurants, flights, calendars), so the student never sees most of
the words an FAQ set uses ("discount", "wholesale", "wardrobe") in a sentence. Sentences
made here carry those words, and the teacher's vectors of them (computed at build time)
teach the student what each word does to a sentence's meaning, as the word-replacement
augmentation of Tang et al. (2019) does for BiLSTM students.

Three shapes, mixed:
- a real request with one or two content words replaced by random vocabulary words;
- a short question frame (written here) filled with random vocabulary words;
- a bag of two to four random vocabulary words, as a keyword query.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import Callable, Sequence

# Words that carry a request's shape rather than its topic: never replaced.
_FUNCTION_WORDS = frozenset(
    """a an the i me my mine we us our you your yours he she it its they them their this that
    these those there here to of in on at by for from with about into over under after before
    between and or but if so than then not no yes is are was were be been being am do does did
    done have has had can could would will shall should may might must what when where why how
    which who whom whose please want wants need needs like would get got go going make let
    some any all each every one two more most much many very just also too only up down out
    off again ok okay thanks thank hi hello""".split()
)
_WORD = re.compile(r"[A-Za-z]+")

# Question frames of the kind people type into an FAQ box; {} takes a random word.
FRAMES = (
    "do you offer {}?",
    "how do i {} my {}?",
    "can i get a {}?",
    "where can i find {}?",
    "is there a {} for {}?",
    "what is your {} policy?",
    "how much does {} cost?",
    "can you help me with {}?",
    "i have a problem with my {}",
    "why is my {} not working?",
    "how long does {} take?",
    "do you sell {}?",
    "can i {} online?",
    "what happens if i {} my {}?",
    "is it possible to {} the {}?",
    "i want to {} my {}",
    "how can i {} {}?",
    "who do i contact about {}?",
    "are there any {} for {}?",
    "my {} is {}, what should i do?",
    "{} {}",
    "{}?",
    "tell me about {}",
    "can you {} it for me?",
    "what do i need for {}?",
)


Spans = Callable[[str], list[tuple[int, int]]]


def english_content_spans(sentence: str) -> list[tuple[int, int]]:
    """Where `sentence`'s content words are (the words a replacement may take)."""
    return [m.span() for m in _WORD.finditer(sentence) if m.group().lower() not in _FUNCTION_WORDS]


def synthetic_requests(
    sentences: Sequence[str],
    words: Sequence[str],
    count: int,
    seed: int = 0,
    replace_share: float = 0.6,
    frame_share: float = 0.25,
    frames: Sequence[str] = FRAMES,
    content_spans: Spans = english_content_spans,
    joiner: str = " ",
) -> list[str]:
    """`count` distinct sentences (fewer only when the inputs cannot make that many).

    `words` in order of frequency (MiniLM's vocabulary roughly is): word i is drawn with
    weight 1/sqrt(i + 1), so common words come up often and the long tail still does (the
    last 60 % of 21k words get ~40 % of the draws). `frames`, `content_spans` and `joiner`
    (between a keyword bag's words) make it another language's
    (training.synthetic_requests_zh)."""
    if not words or count <= 0:
        return []
    rng = random.Random(seed)
    cumulative = list(itertools.accumulate(1.0 / math.sqrt(i + 1) for i in range(len(words))))

    def word() -> str:
        return rng.choices(words, cum_weights=cumulative)[0]

    made: dict[str, None] = {}
    attempts = 0
    while len(made) < count and attempts < 4 * count:
        attempts += 1
        shape = rng.random()
        if shape < replace_share and sentences:
            text = _replaced(rng.choice(sentences), content_spans, word, rng)
        elif shape < replace_share + frame_share:
            frame = rng.choice(frames)
            text = frame.format(*(word() for _ in range(frame.count("{}"))))
        else:
            text = joiner.join(word() for _ in range(rng.randint(2, 4)))
        if text:
            made[text] = None
    return list(made)


def _replaced(
    sentence: str, content_spans: Spans, word: Callable[[], str], rng: random.Random
) -> str:
    """`sentence` with one or two of its content words swapped for random words, or '' when
    it has no content word."""
    spans = content_spans(sentence)
    if not spans:
        return ""
    chosen = sorted(rng.sample(spans, min(len(spans), rng.randint(1, 2))), reverse=True)
    for start, end in chosen:
        sentence = sentence[:start] + word() + sentence[end:]
    return sentence
