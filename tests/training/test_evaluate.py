"""Protocols on toy similarity functions, BM25 against a hand computation, and the bench."""

import json
import math

import numpy as np
import pytest

from bench.quality import (
    CLASS_WEIGHT_SHARE,
    SHARE_GRID,
    BenchSplit,
    choose_class_weight_share,
    closed_set_similarity,
    format_table,
    make_split,
    run_quality_bench,
)
from model.checkpoint import load_encoder
from tests.fixtures.model_fixtures import FIXTURE_GROUPS, tiny_train_config
from training.bm25 import BM25, bm25_tokens, bm25_tokens_cjk
from training.evaluate import (
    answer_or_abstain,
    class_mixed_similarity,
    ranking_protocol,
    retrieval_protocol,
    val_answer_accuracy,
)
from training.readers import read_dataset
from training.trainer import train_encoder


def _angle_factory(angles: dict[str, float]):
    """Texts are names of points on a circle; similarity = cosine of the angle between them."""

    def fit(documents):
        doc = np.deg2rad([angles[d] for d in documents])

        def similarity(queries):
            q = np.deg2rad([angles[t] for t in queries])
            return np.cos(q[:, None] - doc[None, :]).astype(np.float32)

        return similarity

    return fit


ANGLES = {"a1": 0, "a2": 10, "b1": 25, "b2": 90, "a3": 100, "c1": 200, "q1": 55, "q2": 130}


def test_ranking_protocol_hand_computed():
    groups = {"a": ["a1", "a2", "a3"], "b": ["b1", "b2"], "c": ["c1"]}
    # same configuration as test_metrics: ranks [0, 0, 2, 2, 1] → top1 2/5, top2 3/5
    result = ranking_protocol(_angle_factory(ANGLES), groups, ks=(1, 2, 3))
    assert result == {"top1": 2 / 5, "top2": 3 / 5, "top3": 1.0}


def test_retrieval_protocol_hand_computed():
    index = {"a": ["a1", "a2"], "b": ["b2"]}
    # q1 (55°): b2 at 35° beats a2 at 45° → a query of b is a hit, of a a miss at top1.
    assert retrieval_protocol(_angle_factory(ANGLES), index, {"b": ["q1"]}, ks=(1,)) == {"top1": 1}
    assert retrieval_protocol(_angle_factory(ANGLES), index, {"a": ["q1"]}, ks=(1, 2)) == {
        "top1": 0.0,
        "top2": 1.0,
    }


def test_answer_or_abstain_hand_computed():
    angles = {
        "a": 0,
        "b": 90,
        "va": 5,
        "vb": 80,
        "vo": 200,
        "ta": 30,
        "tb": 95,
        "to1": 60,
        "to2": 180,
    }
    result = answer_or_abstain(
        _angle_factory(angles),
        index={"a": ["a"], "b": ["b"]},
        val={"a": ["va"], "b": ["vb"]},
        val_oos=["vo"],
        test={"a": ["ta"], "b": ["tb"]},
        test_oos=["to1", "to2"],
    )
    # val scores: va cos5°, vb cos10°, vo cos110° < 0 → threshold between cos110° and cos10°
    # (the lowest of the tied-best candidates: midpoint of cos110° and cos10°).
    assert result["threshold"] == pytest.approx(
        (math.cos(math.radians(110)) + math.cos(math.radians(10))) / 2
    )
    # test: ta (cos30°) and tb (cos5°) answered correctly; to1 scores cos30° → answered (wrong),
    # to2 cos90° = 0 → abstained.
    assert result["in_scope_accuracy"] == 1.0
    assert result["oos_recall"] == 0.5 and result["oos_precision"] == 1.0
    # AUROC: in-scope {cos30, cos5} vs oos {cos30, 0}: pairs 0.5 + 1 + 1 + 1 = 3.5 / 4
    assert result["auroc"] == pytest.approx(3.5 / 4)


def test_bm25_matches_hand_computation():
    docs = ["reset password", "reset my password now", "track order"]
    scores = BM25(docs, k1=1.2, b=0.75).scores(["password?"])
    n, df, avg = 3, 2, (2 + 4 + 2) / 3
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))

    def term(length):
        return idf * 1 * 2.2 / (1 + 1.2 * (1 - 0.75 + 0.75 * length / avg))

    np.testing.assert_allclose(scores[0], [term(2), term(4), 0.0], rtol=1e-6)


def test_bm25_cjk_tokens_split_chinese_into_characters_and_keep_words():
    assert bm25_tokens_cjk("花呗怎么还款？Reset my password2") == [
        "花", "呗", "怎", "么", "还", "款", "reset", "my", "password2"
    ]
    assert bm25_tokens_cjk("reset my pass_word") == bm25_tokens("reset my pass_word")
    # Word tokens see one Chinese clause as one token: no overlap between paraphrases.
    docs = ["花呗怎么还款", "额度多少"]
    assert BM25(docs).scores(["花呗还款"])[0].max() == 0.0
    scores = BM25(docs, tokenize=bm25_tokens_cjk).scores(["花呗还款"])[0]
    assert scores[0] > 0.0 and scores[1] == 0.0


def test_quality_bench_writes_every_key(tmp_path):
    oos = tmp_path / "oos.txt"
    oos.write_text("\n".join(f"tell me a joke number {i}" for i in range(20)), encoding="utf-8")
    dataset = read_dataset(FIXTURE_GROUPS, oos)
    split = make_split(dataset)
    assert len(split.unseen) == 10 and not set(split.unseen) & set(split.seen)
    report = run_quality_bench(
        dataset, tmp_path / "out", tiny_train_config(epochs=15), progress=False
    )
    written = json.loads((tmp_path / "out" / "quality.json").read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(report))
    for section in (written, written["bm25"]):
        for key in ("top1", "top5", "top10"):
            assert 0 <= section["unseen"][key] <= 1 and 0 <= section["unseen_ranking"][key] <= 1
        assert 0 <= section["closed"]["top1"] <= 1
        for key in ("in_scope_accuracy", "oos_recall", "threshold", "auroc"):
            assert key in section["oos"]
    assert written["train_seconds"] > 0 and written["device"] == "cpu"
    assert written["closed"]["top1"] > 5 / 30  # real training: far above chance (1/30)
    assert (tmp_path / "out" / "training_curve.png").stat().st_size > 1000
    assert "unseen.top1" in format_table(report)
    assert written["class_weight_share"] in SHARE_GRID  # chosen on val by default
    chosen = written["class_weight_share_val"][str(written["class_weight_share"])]
    assert chosen == max(written["class_weight_share_val"].values())


def test_class_mixed_similarity_mixes_best_phrasing_and_class_vector(tiny_encoder):
    index = {"a": ["reset my password", "forgot password"], "b": ["where is my order"]}
    queries = ["password help", "track order"]
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(2, tiny_encoder.dim)).astype(np.float32)
    weights /= np.linalg.norm(weights, axis=1, keepdims=True)
    text_class = {"reset my password": 1, "forgot password": 1, "where is my order": 0}
    docs = [t for ts in index.values() for t in ts]
    q = tiny_encoder.encode(queries)
    by_text = q @ tiny_encoder.encode(docs).T  # (2, 3)
    by_class = q @ weights.T  # (2, 2)
    for share in (0.0, 0.5, 1.0):
        similarity = class_mixed_similarity(tiny_encoder, weights, text_class, share)(docs)
        expected = (1 - share) * by_text + share * by_class[:, [1, 1, 0]]
        np.testing.assert_allclose(similarity(queries), expected, rtol=1e-5, atol=1e-6)
    # share 1: a group's best score is its class vector's cosine whatever the phrasing
    only_class = class_mixed_similarity(tiny_encoder, weights, text_class, 1.0)(docs)(queries)
    np.testing.assert_allclose(only_class[:, 0], only_class[:, 1], rtol=1e-6)


def _fixture_split_and_model(tmp_path):
    oos = tmp_path / "oos.txt"
    oos.write_text("\n".join(f"tell me a joke number {i}" for i in range(20)), encoding="utf-8")
    split = make_split(read_dataset(FIXTURE_GROUPS, oos))
    config = tiny_train_config(epochs=10, holdout_fraction=0.0)
    path = train_encoder(
        [split.train[g] for g in sorted(split.train)], tmp_path / "m", config, progress=False
    )
    return split, path, load_encoder(path)


def test_class_weight_share_is_chosen_on_validation_data_only(tmp_path):
    split, path, encoder = _fixture_split_and_model(tmp_path)
    share, scores = choose_class_weight_share(path, encoder, split)
    assert set(scores) == {str(w) for w in SHARE_GRID}
    assert scores[str(share)] == max(scores.values())
    assert min(scores.values()) >= 0
    # The scores are val answer-or-abstain accuracies at each mix.
    factory = closed_set_similarity(path, encoder, split, 0.3)
    expected = val_answer_accuracy(factory, split.train, split.val, split.val_oos)
    assert scores["0.3"] == pytest.approx(expected)
    # Test data cannot move the choice: the same split with other test questions.
    scrambled = BenchSplit(
        split.train,
        {g: ["completely unrelated words"] for g in split.test},
        split.unseen,
        split.val,
        split.val_oos,
        ["where is my order"],
    )
    assert choose_class_weight_share(path, encoder, scrambled) == (share, scores)
    # ... while validation data does (here: val questions of the wrong groups).
    names = sorted(split.val)
    wrong = BenchSplit(
        split.train,
        split.test,
        split.unseen,
        {g: split.val[names[i - 1]] for i, g in enumerate(names)},
        split.val_oos,
        split.test_oos,
    )
    assert choose_class_weight_share(path, encoder, wrong)[1] != scores


def test_class_weight_share_falls_back_without_validation(tmp_path):
    split, path, encoder = _fixture_split_and_model(tmp_path)
    no_val = BenchSplit(split.train, split.test, split.unseen)
    assert choose_class_weight_share(path, encoder, no_val) == (CLASS_WEIGHT_SHARE, {})
    in_scope_only = BenchSplit(split.train, split.test, split.unseen, split.val)
    share, scores = choose_class_weight_share(path, encoder, in_scope_only, grid=(0.0, 1.0))
    assert set(scores) == {"0.0", "1.0"} and share in (0.0, 1.0)
