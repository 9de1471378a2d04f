"""The lexical half of the fused score: terms, IDF, unit TF-IDF vectors, the packed and the
matrix dots (both checked against a plain dict dot), and the checkpoint round trip."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.lexical import (
    LexicalMatrix,
    LexicalModel,
    LexicalRows,
    PackedQuery,
    is_cjk_text,
    lexical_terms,
    sparse_dot,
)

PHRASINGS = [
    "how do I reset my password",
    "I forgot my password",
    "where is my parcel",
    "怎么重置密码",
    "我的包裹在哪里",
    "Do you sell a mouse pad?",
]


@pytest.fixture(scope="module")
def model() -> LexicalModel:
    return LexicalModel.fit(PHRASINGS, weight_cjk=0.4, weight_latin=0.25)


def test_terms_are_cjk_characters_and_bigrams_and_words_and_trigrams() -> None:
    assert lexical_terms("重置密码") == ["重", "置", "密", "码", "重置", "置密", "密码"]
    assert lexical_terms("Pad!") == ["pad", "#<pa", "#pad", "#ad>"]
    assert lexical_terms("pad 密码") == ["pad", "#<pa", "#pad", "#ad>", "密", "码", "密码"]
    assert lexical_terms("?!") == []


def test_script_picks_the_weight(model: LexicalModel) -> None:
    assert is_cjk_text("怎么重置密码") and is_cjk_text("怎么重置我的 pin")
    assert not is_cjk_text("reset my password 密码") and not is_cjk_text("123 ?")
    assert model.weight("怎么重置密码") == 0.4
    assert model.weight("where is it") == 0.25


def test_idf_ranks_rare_terms_higher_and_unseen_terms_highest(model: LexicalModel) -> None:
    assert model.idf["password"] < model.idf["parcel"]  # 2 phrasings against 1
    assert model.unknown_idf == pytest.approx(max(model.idf.values()))
    assert model.unknown_idf == pytest.approx(math.log((len(PHRASINGS) + 1) / 2) + 1, abs=1e-4)


def test_vectors_are_unit_and_identical_texts_score_one(model: LexicalModel) -> None:
    vector = model.vector("where is my parcel")
    assert math.fsum(w * w for w in vector.values()) == pytest.approx(1.0)
    assert sparse_dot(vector, model.vector("Where is my PARCEL?")) == pytest.approx(1.0)
    assert model.vector("...") == {}
    assert sparse_dot(model.vector("..."), vector) == 0.0


def test_packed_and_matrix_dots_equal_the_dict_dot(model: LexicalModel) -> None:
    questions = ["reset password please", "包裹在哪", "mouse pads", "zzz unseen words", ""]
    vectors = [model.vector(text) for text in PHRASINGS]
    rows = LexicalRows()
    rows.put(7, vectors[:2])  # FAQ 7: phrasings 0-1; FAQ 9: phrasings 0-3
    rows.put(9, vectors[2:])
    faq_ids = np.array([7, 7, 9, 9, 9, 9])
    nos = np.array([0, 1, 0, 1, 2, 3])
    expected = np.array([[sparse_dot(model.vector(q), v) for v in vectors] for q in questions])
    for row, question in enumerate(questions):
        dots = rows.dots(PackedQuery(model.vector(question)), faq_ids, nos)
        np.testing.assert_allclose(dots, expected[row], atol=1e-6)
        reordered = rows.dots(PackedQuery(model.vector(question)), faq_ids[::-1], nos[::-1])
        np.testing.assert_allclose(reordered, expected[row][::-1], atol=1e-6)
    matrix = LexicalMatrix(model, PHRASINGS)
    np.testing.assert_allclose(matrix.scores(questions), expected, atol=1e-6)
    assert expected[0, 0] > expected[0, 2] and expected[1, 4] > expected[1, 3] == 0


def test_dots_many_equals_one_dots_per_query(model: LexicalModel) -> None:
    questions = ["reset password please", "包裹在哪", "", "mouse pads"]  # "" has no term
    rows = LexicalRows()
    rows.put(7, [model.vector(text) for text in PHRASINGS[:2]])
    rows.put(9, [model.vector(text) for text in PHRASINGS[2:]])
    # Each query its own candidates, some shared, one query with none.
    candidates = [([7, 9, 9], [1, 0, 3]), ([9, 7], [2, 0]), ([7], [0]), ([], [])]
    queries = [PackedQuery(model.vector(q)) for q in questions]
    faq_ids = np.array([f for ids, _ in candidates for f in ids], dtype=np.int64)
    nos = np.array([n for _, ns in candidates for n in ns], dtype=np.int64)
    batched = rows.dots_many(queries, faq_ids, nos, [len(ids) for ids, _ in candidates])
    alone = np.concatenate([
        rows.dots(query, np.array(ids, dtype=np.int64), np.array(ns, dtype=np.int64))
        for query, (ids, ns) in zip(queries, candidates, strict=True)
    ])
    np.testing.assert_array_equal(batched, alone)  # the same arithmetic, bit for bit
    assert batched[0] > 0 and batched[5] == 0.0  # a shared term counted; "" matches nothing


def test_rows_replaced_and_removed_many_times_stay_exact(model: LexicalModel) -> None:
    """Replacing FAQs leaves garbage that compaction removes; the dots must not change."""
    rows = LexicalRows()
    query = PackedQuery(model.vector("reset my password"))
    live: dict[int, list[str]] = {}
    for step in range(3000):
        faq_id = step % 50
        texts = [PHRASINGS[(step + j) % len(PHRASINGS)] for j in range(1 + step % 3)]
        if step % 7 == 0:
            rows.remove(faq_id)
            live.pop(faq_id, None)
        else:
            rows.put(faq_id, [model.vector(t) for t in texts])
            live[faq_id] = texts
    assert len(rows) == len(live)
    faq_ids = np.array([f for f, texts in live.items() for _ in texts])
    nos = np.array([n for texts in live.values() for n in range(len(texts))])
    want = [sparse_dot(model.vector("reset my password"), model.vector(t))
            for texts in live.values() for t in texts]
    np.testing.assert_allclose(rows.dots(query, faq_ids, nos), want, atol=1e-6)
    assert rows._used < 4 * sum(len(model.vector(t)) for texts in live.values() for t in texts)


def test_fused_is_the_weighted_mean_by_script(model: LexicalModel) -> None:
    matrix = LexicalMatrix(model, PHRASINGS)
    cosines = np.full((2, len(PHRASINGS)), 0.5, dtype=np.float32)
    fused = matrix.fused(["重置密码", "reset password"], cosines)
    lexical = matrix.scores(["重置密码", "reset password"])
    np.testing.assert_allclose(fused[0], 0.6 * 0.5 + 0.4 * lexical[0], atol=1e-6)
    np.testing.assert_allclose(fused[1], 0.75 * 0.5 + 0.25 * lexical[1], atol=1e-6)


def test_dict_round_trip(model: LexicalModel) -> None:
    assert LexicalModel.from_dict(model.to_dict()) == model


@given(st.text(max_size=80))
def test_any_text_gives_a_vector_of_norm_at_most_one(text: str) -> None:
    model = LexicalModel.fit([text, "plain words"], 0.4, 0.25)
    vector = model.vector(text)
    assert math.fsum(w * w for w in vector.values()) <= 1.0 + 1e-9
    rows = LexicalRows()
    rows.put(1, [vector, model.vector("plain words")])
    dots = rows.dots(PackedQuery(vector), np.array([1, 1]), np.array([0, 1]))
    assert dots[0] == pytest.approx(1.0 if vector else 0.0, abs=1e-5)


def test_checkpoint_keeps_the_lexical_model_under_its_hash(tiny_encoder_path, tmp_path) -> None:
    import json
    import shutil

    from model.checkpoint import META_FILE, load_encoder
    from model.errors import CheckpointError

    encoder = load_encoder(tiny_encoder_path)
    assert encoder.lexical is not None and encoder.lexical.idf  # fitted by the trainer
    assert encoder.lexical.weight_cjk == 0.4 and encoder.lexical.weight_latin == 0.25
    copy = tmp_path / "model"
    shutil.copytree(tiny_encoder_path, copy)
    meta = json.loads((copy / META_FILE).read_text(encoding="utf-8"))
    meta["lexical"]["weight_latin"] = 0.9
    (copy / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(CheckpointError, match="content hash"):
        load_encoder(copy)
