"""Teacher vectors of build-time sentences: computed once, then read from the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.teacher_cache import cache_key, cached_teacher_vectors


class CountingEncoder:
    """A stand-in teacher (the unit under test is the cache, not MiniLM)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, texts):
        self.calls += 1
        return np.array([[len(t), t.count("a") + 1.0, 1.0] for t in texts], dtype=np.float32)


def test_computed_once_then_cached(tmp_path: Path) -> None:
    sentences = ["a cat", "a banana", "dog"]
    encoder = CountingEncoder()
    first = cached_teacher_vectors(sentences, "minilm_en", tmp_path, encoder, chunk=2)
    assert encoder.calls == 2  # two chunks
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-6)
    again = cached_teacher_vectors(sentences, "minilm_en", tmp_path, encoder)
    assert encoder.calls == 2
    np.testing.assert_allclose(again, first, atol=2e-3)  # stored as float16
    key = cache_key(sentences, "minilm_en")
    assert [p.name for p in tmp_path.iterdir()] == [f"minilm_en_{key}.npy"]


def test_other_sentences_or_teacher_get_their_own_entry(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    cached_teacher_vectors(["a cat"], "minilm_en", tmp_path, encoder)
    cached_teacher_vectors(["a dog"], "minilm_en", tmp_path, encoder)
    cached_teacher_vectors(["a cat"], "other", tmp_path, encoder)
    assert encoder.calls == 3 and len(list(tmp_path.iterdir())) == 3
    assert cache_key(["ab", "c"], "t") != cache_key(["a", "bc"], "t")
