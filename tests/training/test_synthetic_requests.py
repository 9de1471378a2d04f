"""Synthetic requests: distinct, seeded, built from the given words and sentences."""

from __future__ import annotations

import re

from training.synthetic_requests import FRAMES, synthetic_requests

SENTENCES = [
    "Please book a table at the Italian restaurant tonight.",
    "What is the weather like in Boston?",
    "Can you play some jazz for me?",
]
WORDS = ["discount", "wardrobe", "wholesale", "student", "recycling", "laptop", "assembly"]


def test_count_distinct_and_seeded() -> None:
    made = synthetic_requests(SENTENCES, WORDS, 200, seed=3)
    assert len(made) == 200 == len(set(made))
    assert made == synthetic_requests(SENTENCES, WORDS, 200, seed=3)
    assert made != synthetic_requests(SENTENCES, WORDS, 200, seed=4)


def test_every_sentence_carries_a_vocabulary_word() -> None:
    for text in synthetic_requests(SENTENCES, WORDS, 300, seed=0):
        assert set(re.findall(r"[a-z]+", text.lower())) & set(WORDS), text


def test_replacements_keep_the_request_shape() -> None:
    made = synthetic_requests(SENTENCES, WORDS, 300, seed=1, replace_share=1.0, frame_share=0)
    for text in made:
        # Function words stay; only content words are swapped.
        assert any(text.startswith(s.split()[0]) for s in SENTENCES), text
    assert any("Boston" not in t and t.startswith("What is the weather") for t in made)


def test_frames_and_bags_need_no_sentences() -> None:
    made = synthetic_requests([], WORDS, 50, seed=0)
    assert made and all(text.strip() for text in made)
    shapes = {f.replace("{}", "") for f in FRAMES}
    assert shapes  # frames are filled: no placeholder survives
    assert not any("{}" in text for text in made)


def test_nothing_to_draw_from_makes_nothing() -> None:
    assert synthetic_requests(SENTENCES, [], 10) == []
    assert synthetic_requests(SENTENCES, WORDS, 0) == []


def test_small_inputs_stop_short_of_the_count_instead_of_looping() -> None:
    made = synthetic_requests([], ["one"], 10_000, seed=0)
    assert 0 < len(made) < 10_000
