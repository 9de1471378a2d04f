"""TrainConfig: one EncoderConfig inside, and both checkpoint shapes of `train_config` load."""

import json
from dataclasses import replace

from model.tokenizer import TokenizerConfig
from training.recipes import scratch_train_config
from training.trainer import TrainConfig

# `train_config` as checkpoints written before the nesting store it (scratch_train_config()):
# the encoder's fields flat beside the training ones.
FLAT = json.loads(
    '{"tokenizer": {"kind": "bilingual", "max_tokens": 32, "max_pieces": 24, "min_n": 2, '
    '"max_n": 4, "min_count": 1}, "embedding_dim": 128, "hidden_size": 128, "num_layers": 1, '
    '"bidirectional": true, "pooling": "max", "dropout": 0.0, "embedding_dropout": 0.0, '
    '"members": 1, "loss": "am_softmax", "scale": 30.0, "margin": 0.35, "label_smoothing": 0.0, '
    '"word_dropout": 0.0, "epochs": 10, "min_steps": 300, "batch_size": 100, '
    '"learning_rate": 0.002, "weight_decay": 0.01, "lr_schedule": "constant", "warmup_steps": 0, '
    '"min_lr_fraction": 0.0, "seed": 0, "holdout_fraction": 0.0, '
    '"min_groups_for_holdout": 1000000000, "patience": 3, "max_train_seconds": 300.0, '
    '"init_from": null, "device": "auto", "sparse_embeddings": true, '
    '"num_threads": 1, "bucket_batches": 50}'
)


def test_defaults_are_the_measured_recipe():
    encoder = TrainConfig().encoder
    assert (encoder.embedding_dim, encoder.hidden_size, encoder.members) == (128, 96, 3)
    assert encoder.bidirectional and encoder.pooling == "max" and encoder.num_layers == 1
    assert encoder.tokenizer == TokenizerConfig() and encoder.vocab_size == 0


def test_encoder_config_is_one_member_with_the_vocabulary():
    config = TrainConfig()
    member = config.encoder_config(500)
    assert member == replace(config.encoder, vocab_size=500, members=1)
    assert member.dim == 192  # biGRU 96


def test_from_dict_reads_the_nested_shape():
    config = replace(
        scratch_train_config(),
        encoder=replace(scratch_train_config().encoder, pooling="mean", num_layers=2),
        epochs=3,
    )
    saved = json.loads(json.dumps(config.to_dict()))  # as checkpoint.json holds it
    assert isinstance(saved["encoder"], dict) and "hidden_size" not in saved
    assert TrainConfig.from_dict(saved) == config


def test_from_dict_reads_the_flat_shape_of_older_checkpoints():
    assert TrainConfig.from_dict(FLAT) == scratch_train_config()


def test_from_dict_keeps_the_default_encoder_for_missing_fields():
    loaded = TrainConfig.from_dict({"hidden_size": 64, "epochs": 2})
    assert loaded.encoder == replace(TrainConfig().encoder, hidden_size=64)
    assert loaded.epochs == 2
    assert TrainConfig.from_dict({}) == TrainConfig()
    nested = TrainConfig.from_dict({"encoder": {"members": 1}})
    assert nested.encoder == replace(TrainConfig().encoder, members=1)
