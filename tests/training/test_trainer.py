"""A real tiny training run: unseen-group ranking improves well above chance."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from model.checkpoint import load_class_weights, load_encoder, read_metadata
from model.faq_scoring import FaqScoring
from tests.fixtures.model_fixtures import tiny_train_config
from training.batches import drop_words
from training.errors import TrainingError
from training.metrics import ranking_topk
from training.recipes import first_start_train_config, scratch_train_config
from training.trainer import TrainConfig, lr_factor, train_encoder


def _split(fixture_groups):
    names = sorted(fixture_groups)
    held = names[::3]  # every third group is never seen in training
    return [fixture_groups[n] for n in names if n not in held], held


def _unseen_top1(encoder, fixture_groups, held):
    sentences = [s for n in held for s in fixture_groups[n]]
    labels = [n for n in held for _ in fixture_groups[n]]
    return ranking_topk(encoder.encode(sentences), labels, ks=(1,))["top1"]


def test_tiny_training_improves_unseen_top1(tmp_path, fixture_groups):
    train, held = _split(fixture_groups)
    untrained = train_encoder(train, tmp_path / "untrained", tiny_train_config(epochs=0))
    trained = train_encoder(train, tmp_path / "trained", tiny_train_config(), progress=False)
    before = _unseen_top1(load_encoder(untrained), fixture_groups, held)
    after = _unseen_top1(load_encoder(trained), fixture_groups, held)
    chance = 5 / (6 * len(held) - 1)  # 5 paraphrases among the other held-out sentences
    assert after > 3 * chance
    assert after > before + 0.1


def test_fixture_encoder_separates_its_groups(tiny_encoder, fixture_groups):
    sentences = [s for g in fixture_groups.values() for s in g]
    labels = [n for n, g in fixture_groups.items() for _ in g]
    assert ranking_topk(tiny_encoder.encode(sentences), labels, ks=(1,))["top1"] > 0.9


def test_checkpoint_records_training_metrics(tiny_encoder_path):
    meta = json.loads((tiny_encoder_path / "checkpoint.json").read_text(encoding="utf-8"))
    training = meta["training"]
    assert training["groups"] == 30 and training["device"] == "cpu"
    assert training["history"][-1]["train_accuracy"] > 0.9
    assert training["train_config"]["loss"] == "am_softmax"


def test_holdout_split_and_progress_callback(tmp_path, fixture_groups):
    calls = []
    config = tiny_train_config(min_groups_for_holdout=20, epochs=3)
    train_encoder(
        list(fixture_groups.values()),
        tmp_path / "m",
        config,
        progress=False,
        on_progress=lambda fraction, message: calls.append((fraction, message)),
    )
    meta = json.loads((tmp_path / "m" / "checkpoint.json").read_text(encoding="utf-8"))
    assert meta["training"]["holdout_groups"] == 3
    assert "holdout_top1" in meta["training"]["history"][0]
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_tiny_input_five_groups_of_three(tmp_path):
    groups = [[f"question {g} variant {v}" for v in range(3)] for g in range(5)]
    path = train_encoder(groups, tmp_path / "m", tiny_train_config(epochs=2), progress=False)
    members = tiny_train_config().encoder.members
    assert load_encoder(path).encode_one("question 1").shape == (96 * members,)  # biGRU: 2 × 48


def test_min_steps_adds_epochs_for_small_data(tmp_path):
    groups = [[f"question {g} variant {v}" for v in range(3)] for g in range(5)]
    config = tiny_train_config(epochs=1, min_steps=6, batch_size=100)  # 1 batch per epoch
    path = train_encoder(groups, tmp_path / "m", config, progress=False)
    assert len(read_metadata(path)["training"]["history"]) == 6


def test_the_faq_scoring_goes_into_the_checkpoint_and_a_bad_one_stops_before_training(tmp_path):
    groups = [[f"question {g} variant {v}" for v in range(3)] for g in range(5)]
    config = tiny_train_config(epochs=1, second_phrasing_weight=0.4)
    path = train_encoder(groups, tmp_path / "m", config, progress=False)
    assert load_encoder(path).faq_scoring == FaqScoring(second_weight=0.4)
    with pytest.raises(TrainingError, match="second_weight"):
        train_encoder(groups, tmp_path / "bad", replace(config, second_phrasing_weight=1.5),
                      progress=False)
    assert not (tmp_path / "bad").exists()  # refused before any work


def test_fine_tunes_for_faq_sets_vote_and_other_recipes_do_not():
    assert first_start_train_config().second_phrasing_weight == 0.4
    assert scratch_train_config().second_phrasing_weight == 0.0
    assert TrainConfig().second_phrasing_weight == 0.0


@pytest.mark.parametrize("groups", [[], [["only one group"]], [[""], ["  "]], ["not", "lists"]])
def test_unusable_input_raises_training_error(tmp_path, groups):
    with pytest.raises(TrainingError):
        train_encoder(groups, tmp_path / "m", tiny_train_config(), progress=False)


def test_warm_start_extends_the_base_vocabulary(tmp_path, tiny_encoder_path, tiny_encoder):
    groups = [
        ["zorblax gift card balance", "check my zorblax card balance"],
        ["zorblax gift card expiry", "when does my zorblax card expire"],
        ["how do i reset my password", "forgot my password"],
    ]
    config = tiny_train_config(epochs=3, init_from=str(tiny_encoder_path))
    tuned = load_encoder(train_encoder(groups, tmp_path / "tuned", config, progress=False))
    base_vocabulary = tiny_encoder.tokenizer.vocabulary
    assert tuned.tokenizer.vocabulary[: len(base_vocabulary)] == base_vocabulary
    assert "<zorblax>" in tuned.tokenizer.vocabulary[len(base_vocabulary) :]
    assert tuned.config.hidden_size == tiny_encoder.config.hidden_size
    assert tuned.encode_one("zorblax balance").shape == (tiny_encoder.dim,)


def test_class_weights_rows_follow_the_input_groups(tmp_path, fixture_groups):
    groups = list(fixture_groups.values())
    with_holdout = tiny_train_config(min_groups_for_holdout=20, epochs=2)
    path = train_encoder(
        [*groups[:5], [" "], *groups[5:]], tmp_path / "h", with_holdout, progress=False
    )
    training = read_metadata(path)["training"]
    rows = training["class_groups"]
    assert len(rows) == training["groups"] == 27 and 5 not in rows  # 3 held out, blank dropped
    assert load_class_weights(path).shape == (27, load_encoder(path).dim)

    closed = tiny_train_config(min_groups_for_holdout=20, holdout_fraction=0.0, epochs=15)
    path = train_encoder(groups, tmp_path / "all", closed, progress=False)
    assert read_metadata(path)["training"]["class_groups"] == list(range(30))
    # The class vectors classify the training sentences (the head was trained on them).
    encoder, weights = load_encoder(path), load_class_weights(path)
    sentences = [s for g in groups for s in g]
    labels = np.array([i for i, g in enumerate(groups) for _ in g])
    assert ((encoder.encode(sentences) @ weights.T).argmax(1) == labels).mean() > 0.9


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("constant", [0.5, 1.0, 1.0, 1.0, 1.0, 1.0]),
        ("linear", [0.5, 1.0, 1.0, 0.75, 0.5, 0.25]),
        ("cosine", [0.5, 1.0, 1.0, (1 + 2**-0.5) / 2, 0.5, (1 - 2**-0.5) / 2]),
    ],
)
def test_lr_factor_warms_up_then_decays(schedule, expected):
    config = TrainConfig(lr_schedule=schedule, warmup_steps=2)
    factors = [lr_factor(step, 6, config) for step in range(6)]
    assert factors == pytest.approx(expected)
    assert lr_factor(6, 6, config) == pytest.approx(0.0 if schedule != "constant" else 1.0)


def test_lr_factor_floor_and_unknown_schedule():
    config = TrainConfig(lr_schedule="linear", min_lr_fraction=0.1)
    assert lr_factor(0, 10, config) == pytest.approx(1.0)
    assert lr_factor(10, 10, config) == pytest.approx(0.1)
    with pytest.raises(TrainingError, match="lr_schedule"):
        lr_factor(0, 10, TrainConfig(lr_schedule="step"))  # type: ignore[arg-type]


def test_lr_schedule_reaches_both_optimizers(tmp_path):
    groups = [[f"question {g} variant {v}" for v in range(3)] for g in range(5)]
    config = tiny_train_config(epochs=4, batch_size=100, lr_schedule="linear")  # 1 batch/epoch
    history = read_metadata(train_encoder(groups, tmp_path / "m", config, progress=False))[
        "training"
    ]["history"]
    rates = [h["learning_rate"] for h in history]
    lr = config.learning_rate
    assert rates == pytest.approx([0.75 * lr, 0.5 * lr, 0.25 * lr, 0.0])


def test_lr_schedule_scales_the_sparse_embedding_updates_too(tmp_path):
    groups = [[f"question {g} variant {v}" for v in range(3)] for g in range(5)]
    untrained = load_encoder(
        train_encoder(groups, tmp_path / "init", tiny_train_config(epochs=0), progress=False)
    )
    # A warm-up longer than training keeps every update ~1e-9 of the learning rate.
    frozen = tiny_train_config(epochs=3, sparse_embeddings=True, warmup_steps=10**9)
    trained = load_encoder(train_encoder(groups, tmp_path / "m", frozen, progress=False))
    before, after = untrained.network.state_dict(), trained.network.state_dict()
    assert set(before) == set(after)
    for name in before:  # embedding table (SparseAdam) and GRU (AdamW) alike
        assert torch.allclose(before[name], after[name], atol=1e-6), name
    moved = tiny_train_config(epochs=3, sparse_embeddings=True)
    trained = load_encoder(train_encoder(groups, tmp_path / "c", moved, progress=False))
    changed = trained.network.state_dict()
    tables = [name for name in before if name.endswith("embedding.weight")]
    assert tables  # one per ensemble member
    for name in tables:
        assert not torch.allclose(before[name], changed[name], atol=1e-6), name


def test_word_dropout_drops_whole_positions_and_keeps_one():
    rng = np.random.default_rng(0)
    sentence = [(5, 6, 7), (8,), (9, 10), (11,)] * 50  # 200 positions
    kept = drop_words(sentence, 0.25, rng)
    assert 120 < len(kept) < 180  # ~150 expected
    assert all(p in sentence for p in kept)  # positions kept whole, order preserved
    positions = iter(sentence)
    assert all(any(p == q for q in positions) for p in kept)
    assert drop_words([(1, 2)], 0.9, rng) == [(1, 2)]  # one word: never dropped
    assert len(drop_words([(1,), (2,), (3,)], 1.0, rng)) == 1  # at least one survives


def test_word_dropout_changes_training(tmp_path, fixture_groups):
    groups = list(fixture_groups.values())
    histories = [
        read_metadata(
            train_encoder(
                groups,
                tmp_path / str(rate),
                tiny_train_config(epochs=2, word_dropout=rate),
                progress=False,
            )
        )["training"]["history"]
        for rate in (0.0, 0.3)
    ]
    assert histories[0][-1]["loss"] != pytest.approx(histories[1][-1]["loss"], rel=1e-4)


def test_ensemble_members_train_apart_and_member_one_is_the_lone_model(tmp_path, fixture_groups):
    groups = list(fixture_groups.values())
    calls = []
    lone = load_encoder(
        train_encoder(groups, tmp_path / "one", tiny_train_config(epochs=3, members=1), False)
    )
    path = train_encoder(
        groups,
        tmp_path / "two",
        tiny_train_config(epochs=3, members=2),
        progress=False,
        on_progress=lambda fraction, message: calls.append((fraction, message)),
    )
    ensemble = load_encoder(path)
    assert ensemble.dim == 2 * lone.dim
    sentences = [s for g in groups for s in g]
    vectors = ensemble.encode(sentences)
    first, second = np.hsplit(vectors * np.sqrt(2), 2)
    # Member 1 uses the seed a lone model uses: the same network, bit for bit.
    np.testing.assert_allclose(first, lone.encode(sentences), atol=1e-6)
    assert not np.allclose(first, second, atol=1e-2)  # member 2: another seed
    training = read_metadata(path)["training"]
    assert [len(m["history"]) for m in training["members"]] == [3, 3]
    weights = load_class_weights(path)
    assert weights.shape == (30, ensemble.dim)
    np.testing.assert_allclose(np.linalg.norm(weights, axis=1), 1.0, rtol=1e-5)
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(m.startswith("member 2/2") for _, m in calls)


def test_ensemble_warm_start_keeps_members(tmp_path, fixture_groups):
    groups = list(fixture_groups.values())
    base = train_encoder(groups, tmp_path / "base", tiny_train_config(epochs=2, members=2), False)
    config = tiny_train_config(epochs=1, members=2, init_from=str(base))
    tuned = load_encoder(train_encoder(groups[:4], tmp_path / "tuned", config, progress=False))
    assert tuned.dim == load_encoder(base).dim


def test_members_below_one_is_a_training_error(tmp_path, fixture_groups):
    with pytest.raises(TrainingError, match="members"):
        train_encoder(
            list(fixture_groups.values()), tmp_path / "m", tiny_train_config(members=0), False
        )
