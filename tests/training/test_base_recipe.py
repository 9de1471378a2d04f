"""The base recipe on a tiny data root: teacher files + one licence-clean group set."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open

from model.checkpoint import WEIGHTS_FILE, load_encoder, read_metadata
from tests.fixtures.base_data import ZH, write_tiny_data_root
from tests.fixtures.wordnet import write_tiny_wordnet
from training.base_recipe import BaseRecipe, build_vocabulary, train_base
from training.errors import TrainingError
from training.model_card import write_model_card
from training.teachers import read_teacher


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    return write_tiny_data_root(tmp_path / "data")


def _tiny(**changes) -> BaseRecipe:
    return dataclasses.replace(
        BaseRecipe(
            embedding_dim=8,
            hidden_size=8,
            epochs=2,
            batch_size=4,
            holdout_rows=3,
            teacher_vocabulary=False,  # the teacher packages: test_token_init covers the maths
            token_init=False,
            synthetic_en=0,  # the MiniLM teacher itself: the synthetic test fakes it
            synthetic_zh=0,  # USE and jieba's whole dictionary: the Chinese test fakes USE
        ),
        **changes,
    )


def test_teacher_rows_are_unit_vectors_restricted_by_licence(data_root: Path) -> None:
    teacher = read_teacher(data_root / "teacher_vectors", "minilm_en")
    assert teacher.dim == 12 and len(teacher.sentences) == 7
    np.testing.assert_allclose(np.linalg.norm(teacher.vectors, axis=1), 1.0, atol=1e-5)
    clean = teacher.restricted({"sgd_user_en", "hwu64_en"})
    assert "a research only sentence" not in clean.sentences and len(clean.sentences) == 6


def test_teacher_files_that_disagree_are_refused(data_root: Path) -> None:
    folder = data_root / "teacher_vectors"
    (folder / "use_zh_sentences.tsv").write_text("只有一句\tkdconv_zh\n", encoding="utf-8")
    with pytest.raises(TrainingError, match="must match"):
        read_teacher(folder, "use_zh")
    (folder / "use_zh_scale.npy").unlink()
    with pytest.raises(TrainingError, match="missing"):
        read_teacher(folder, "use_zh")


def test_vocabulary_adds_the_extra_words_within_the_size_limit() -> None:
    recipe = _tiny(
        max_vocabulary=6, tokenizer=dataclasses.replace(BaseRecipe().tokenizer, min_count=1)
    )
    tokenizer = build_vocabulary(["the cat", "the dog", "the"], recipe, ["password", "the"])
    assert len(tokenizer) == 6
    assert tokenizer.piece_id("<password>") is not None  # extra words always get a row
    assert tokenizer.piece_id("<the>") is not None  # the most frequent piece of the texts


def test_extra_words_the_texts_use_rarely_are_kept_at_the_limit() -> None:
    recipe = _tiny(
        max_vocabulary=8, tokenizer=dataclasses.replace(BaseRecipe().tokenizer, min_count=1)
    )
    texts = ["the cat", "the cat", "the dog", "the", "a password"]
    tokenizer = build_vocabulary(texts, recipe, ["password", "refund"])
    assert len(tokenizer) == 8
    # "password" is counted once (rarer than the cut), "refund" never: both have rows.
    assert tokenizer.piece_id("<password>") is not None
    assert tokenizer.piece_id("<refund>") is not None
    assert tokenizer.piece_id("<the>") is not None


def test_vocabulary_keeps_the_most_frequent_pieces() -> None:
    recipe = _tiny(
        max_vocabulary=5, tokenizer=dataclasses.replace(BaseRecipe().tokenizer, min_count=1)
    )
    tokenizer = build_vocabulary(["the cat", "the dog", "the"], recipe)
    assert len(tokenizer) == 5 and tokenizer.piece_id("<the>") is not None


def test_base_training_writes_a_half_precision_checkpoint_and_card(
    data_root: Path, tmp_path: Path
) -> None:
    out = train_base(data_root, tmp_path / "base", _tiny(), progress=False)
    encoder = load_encoder(out)
    texts = ["book a table", "订桌子"]
    vectors = encoder.encode(texts)
    # Unit rows; zero for a text the tiny vocabulary reads no word in (model.tokenizer).
    read = encoder.tokenizer.encode_read_many(texts)[1]
    assert read[0]
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), read, atol=1e-5)
    with safe_open(str(out / WEIGHTS_FILE), framework="np") as handle:
        assert handle.get_tensor("embedding.weight").dtype == np.float16
    training = read_metadata(out)["training"]
    assert training["recipe"] == "base" and len(training["history"]) == 2
    assert "clinc150" not in training["sources"] and "hwu64_en" in training["sources"]
    assert training["teachers"] == {"minilm_en": 6, "use_zh": 6}
    assert {"minilm_en_cosine_corr", "use_zh_nn_agree"} <= set(training["history"][-1])
    card = write_model_card(out, "samesay train --recipe base").read_text(encoding="utf-8")
    assert encoder.content_hash in card and "CC BY-SA 4.0" in card


def test_the_recipes_pooling_and_layers_make_the_network(data_root: Path, tmp_path: Path) -> None:
    out = train_base(data_root, tmp_path / "base", _tiny(pooling="last", num_layers=2), False)
    config = load_encoder(out).config
    assert (config.pooling, config.num_layers) == ("last", 2)
    card = write_model_card(out, "samesay train --recipe base").read_text(encoding="utf-8")
    assert "last pooling" in card


def test_research_only_group_sets_are_refused(data_root: Path, tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="licence"):
        train_base(data_root, tmp_path / "x", _tiny(group_sets=("lcqmc_zh",)), progress=False)


def _fake_teachers(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Stand-ins for MiniLM (12-d, as the tiny data root's minilm_en vectors) and USE (16-d):
    returns the texts each was asked to embed, by teacher name."""
    import training.teacher_cache as teacher_cache

    asked: dict[str, list[str]] = {}

    def fake_teacher(name: str):
        def encode(texts):
            asked.setdefault(name, []).extend(texts)
            dim = {"minilm_en": 12, "use_zh": 16}[name]
            return np.random.default_rng(len(texts)).normal(size=(len(texts), dim))

        return encode

    monkeypatch.setattr(teacher_cache, "_teacher_encoder", fake_teacher)
    return asked


def test_synthetic_requests_are_distilled_through_the_english_head(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _fake_teachers(monkeypatch).setdefault("minilm_en", [])
    recipe = _tiny(synthetic_en=20, teacher_cache=str(tmp_path / "cache"))
    out = train_base(data_root, tmp_path / "base", recipe, progress=False)
    training = read_metadata(out)["training"]
    assert training["teachers"]["minilm_en+synthetic"] == len(seen) > 0
    assert "a research only sentence" not in " ".join(seen)
    assert set(training["sources"]) == {"crosswoz_user_zh", "hwu64_en", "kdconv_zh", "sgd_user_en"}
    # The second build reads the cache instead of asking the teacher again.
    train_base(data_root, tmp_path / "again", recipe, progress=False)
    assert training["teachers"]["minilm_en+synthetic"] == len(seen)


def test_wordnet_sentences_are_distilled_through_the_english_head_with_their_notice(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _fake_teachers(monkeypatch)
    wordnet = write_tiny_wordnet(tmp_path / "wordnet")
    recipe = _tiny(wordnet_en=5, wordnet_dir=str(wordnet), teacher_cache=str(tmp_path / "c"))
    out = train_base(data_root, tmp_path / "base", recipe, progress=False)
    training = read_metadata(out)["training"]
    assert training["teachers"]["minilm_en+wordnet"] == 5
    assert list(asked) == ["minilm_en"] and len(asked["minilm_en"]) == 5
    assert "wordnet" in training["sources"]
    card = write_model_card(out, "samesay train --recipe base --wordnet-en 5").read_text()
    assert "WordNet 3.0 Copyright 2006 by Princeton University" in card
    assert "| wordnet | WordNet 3.0 licence" in card
    with pytest.raises(TrainingError, match="wordnet-base"):
        train_base(data_root, tmp_path / "x", _tiny(wordnet_en=5, wordnet_dir=str(tmp_path)))


@pytest.mark.parametrize("change", [{"teachers": ("use_zh",)}, {"wordnet_en": -1}])
def test_wordnet_without_its_teacher_or_with_a_negative_count_is_refused(
    data_root: Path, tmp_path: Path, change: dict[str, object]
) -> None:
    recipe = _tiny(**{"wordnet_en": 5, **change})
    with pytest.raises(TrainingError, match="wordnet_en .*minilm_en"):
        train_base(data_root, tmp_path / "x", recipe, progress=False)
    assert not (tmp_path / "x").exists()


def test_chinese_synthetic_requests_are_distilled_and_their_characters_learnt(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _fake_teachers(monkeypatch)
    recipe = _tiny(synthetic_zh=200, teacher_cache=str(tmp_path / "cache"))  # synthetic_en 0
    out = train_base(data_root, tmp_path / "base", recipe, progress=False)
    training = read_metadata(out)["training"]
    assert list(asked) == ["use_zh"]  # synthetic_en is 0: MiniLM is never asked
    assert training["teachers"]["use_zh+synthetic"] == len(asked["use_zh"]) == 200
    # Characters only the synthetic rows use are in the vocabulary (3+ times across them).
    tokenizer = load_encoder(out).tokenizer
    counts = Counter("".join(asked["use_zh"]))
    real = set("".join(sentence for sentence, _ in ZH))
    new = [c for c, n in counts.items() if n >= 3 and c not in real and "\u4e00" <= c <= "\u9fff"]
    assert len(new) > 10 and all(tokenizer.token_ids(c)[0] > 1 for c in new)


def test_topic_aware_batches_train_and_are_recorded(data_root: Path, tmp_path: Path) -> None:
    recipe = _tiny(topic_share=0.5, topic_rows=1)
    out = train_base(data_root, tmp_path / "base", recipe, progress=False)
    training = read_metadata(out)["training"]
    assert training["base_recipe"]["topic_share"] == 0.5
    assert len(training["history"]) == 2
    assert np.isfinite(training["history"][-1]["loss_minilm_en"])
