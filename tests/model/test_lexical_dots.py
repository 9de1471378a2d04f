"""The lexical rescore's dots in C (model/_lexical_dots.c) against the NumPy path: the same
bits on many random rows (term hashes that collide with the query's sentinel included), the
rows' garbage after replacements, and clear errors for buffers that do not fit."""

from __future__ import annotations

import numpy as np
import pytest

from model import lexical
from model.lexical import LexicalModel, LexicalRows, PackedQuery
from tests.model.native import built

WORDS = "reset password parcel where order refund card pad mouse 密码 包裹 退款 订单".split()


@pytest.fixture
def native():
    return built(lexical.native_dots, "_lexical_dots")


def _texts(rng: np.random.Generator, count: int) -> list[str]:
    return [" ".join(rng.choice(WORDS, rng.integers(0, 7))) for _ in range(count)]


def test_c_and_numpy_dots_agree_to_the_bit(native, monkeypatch) -> None:
    rng = np.random.default_rng(0)
    model = LexicalModel.fit(_texts(rng, 60), weight_cjk=0.4, weight_latin=0.25)
    rows, live = LexicalRows(), {}  # FAQ id -> its phrasings
    for number in range(40):  # replaced FAQs leave garbage between the live rows
        phrasings = _texts(rng, rng.integers(1, 5))
        rows.put(number % 25, [model.vector(text) for text in phrasings])
        live[number % 25] = len(phrasings)
    queries = [PackedQuery(model.vector(text)) for text in _texts(rng, 30)]
    counts = rng.integers(0, 21, len(queries)).tolist()
    faq_ids = rng.choice(list(live), sum(counts))
    nos = np.array([rng.integers(0, live[faq_id]) for faq_id in faq_ids], dtype=np.int64)
    in_c = rows.dots_many(queries, faq_ids, nos, counts)
    monkeypatch.setattr(lexical, "native_dots", None)
    in_numpy = rows.dots_many(queries, faq_ids, nos, counts)
    assert in_c.dtype == np.float32 and in_c.any()
    np.testing.assert_array_equal(in_c, in_numpy)


def test_a_term_equal_to_the_sentinel_is_still_found(native) -> None:
    sentinel = np.iinfo(np.int64).max
    q_terms = np.array([5, sentinel, sentinel], dtype=np.int64)  # a real term, then PackedQuery's
    q_weights = np.array([0.5, 0.25, 0.0], dtype=np.float32)
    terms = np.array([5, sentinel, 7], dtype=np.int64)
    weights = np.array([2.0, 4.0, 8.0], dtype=np.float32)
    out = np.empty(3, dtype=np.float32)
    starts, ends = np.array([0, 1, 2]), np.array([3, 2, 2])
    native.dots(q_terms, q_weights, terms, weights, starts, ends, out)
    assert out.tolist() == [2.0, 1.0, 0.0]  # 0.5*2 + 0.25*4; 0.25*4; an empty candidate


def test_buffers_that_do_not_fit_are_value_errors(native) -> None:
    q_terms, q_weights = np.array([1, 9], dtype=np.int64), np.ones(2, dtype=np.float32)
    terms, weights = np.arange(4, dtype=np.int64), np.ones(4, dtype=np.float32)
    starts, ends, out = np.array([0, 2]), np.array([2, 4]), np.empty(2, dtype=np.float32)
    native.dots(q_terms, q_weights, terms, weights, starts, ends, out)
    assert out.tolist() == [1.0, 0.0]
    bad = {
        "outside": (q_terms, q_weights, terms, weights, starts, np.array([2, 5]), out),
        "pair up": (q_terms, q_weights[:1], terms, weights, starts, ends, out),
        "format": (q_terms, q_weights.astype(np.float64), terms, weights, starts, ends, out),
        "q_terms": (q_terms.astype(np.int32), q_weights, terms, weights, starts, ends, out),
    }
    for message, args in bad.items():
        with pytest.raises(ValueError, match=message):
            native.dots(*args)
    with pytest.raises((TypeError, BufferError)):  # read-only out
        native.dots(q_terms, q_weights, terms, weights, starts, ends, out.tobytes())
    strided = np.array([0, 9, 2, 9])[::2]  # [0, 2], every other item of a buffer
    with pytest.raises((TypeError, BufferError, ValueError)):
        native.dots(q_terms, q_weights, terms, weights, strided, ends, out)
