"""Model2Vec-style embedding start, with stand-in teachers (the real ones are build-time)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from model.tokenizer import PAD, UNK, Tokenizer, TokenizerConfig
from training.token_init import token_init_table

WORDS = [f"word{chr(97 + i)}{chr(97 + j)}" for i in range(6) for j in range(6)]  # 36 words
CHARS = list("天气下雨音乐订桌")


def _fake(texts: Sequence[str]) -> np.ndarray:
    # A deterministic "teacher": words that share a first letter after "word" point alike.
    rows = []
    for text in texts:
        rng = np.random.default_rng(ord(text[-2]) if len(text) > 1 else ord(text))
        rows.append(rng.normal(size=24) + 0.1 * np.random.default_rng(len(rows)).normal(size=24))
    return np.asarray(rows, dtype=np.float32)


def _tokenizer() -> Tokenizer:
    config = TokenizerConfig(min_count=1)
    built = Tokenizer.build([*WORDS, "".join(CHARS), "!"], config)
    return Tokenizer(config, [PAD, UNK, *built.word_pieces])


def test_rows_follow_the_teacher_and_ngrams_average_their_words() -> None:
    tokenizer = _tokenizer()
    table = token_init_table(tokenizer, 4, _fake, _fake)
    assert table.shape == (len(tokenizer), 4) and not table[:2].any()
    a, b = tokenizer.piece_id("<wordaa>"), tokenizer.piece_id("<wordab>")
    z = tokenizer.piece_id("<wordfa>")
    assert a is not None and b is not None and z is not None

    def cos(i: int, j: int) -> float:
        return float(table[i] @ table[j] / np.linalg.norm(table[i]) / np.linalg.norm(table[j]))

    assert cos(a, b) > cos(a, z)  # the teacher's neighbours stay neighbours after PCA
    gram = tokenizer.piece_id("daa")  # only in "<wordaa>"'s n-grams
    assert gram is not None
    np.testing.assert_allclose(table[gram], table[a], rtol=1e-5)
    shared = tokenizer.piece_id("<wo")  # in every word: their mean
    assert shared is not None
    words = [tokenizer.piece_id(f"<{w}>") for w in WORDS]
    assert None not in words
    np.testing.assert_allclose(table[shared], table[np.array(words)].mean(0), atol=1e-5)
