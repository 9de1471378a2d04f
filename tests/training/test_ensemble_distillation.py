"""Distilling fine-tuned members into one network: the student's cosines move towards the
ensemble's, the members are left as they were, and the trainer saves one network."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from model.checkpoint import load_class_weights, load_encoder
from model.encoder import EncoderConfig, EnsembleEncoder, GruEncoder
from model.tokenizer import Tokenizer, TokenizerConfig
from tests.fixtures.model_fixtures import tiny_train_config
from training.batches import Batcher
from training.ensemble_distillation import EnsembleTargets, distil_ensemble
from training.trainer import train_encoder

GROUPS = [
    ["zorblax gift card balance", "check my zorblax card balance"],
    ["zorblax gift card expiry", "when does my zorblax card expire"],
    ["how do i reset my password", "forgot my password"],
]


def _cosines(network: torch.nn.Module, batcher: Batcher) -> np.ndarray:
    ids, lengths, _ = batcher.collate(np.arange(len(batcher)))
    with torch.no_grad():
        vectors = torch.nn.functional.normalize(network.eval()(ids, lengths), dim=-1)
    return (vectors @ vectors.T).numpy()


def test_the_student_learns_the_ensembles_cosines(fixture_groups) -> None:
    sentences = [s for group in fixture_groups.values() for s in group]
    tokenizer = Tokenizer.build(sentences, TokenizerConfig(min_count=1))
    config = EncoderConfig(vocab_size=len(tokenizer), embedding_dim=32, hidden_size=24)
    members = []
    for seed in (0, 1, 2):
        torch.manual_seed(seed)
        members.append(GruEncoder(config).eval())
    before = [m.state_dict()["gru.weight_hh_l0"].clone() for m in members]
    batcher = Batcher(tokenizer, sentences, [0] * len(sentences))
    ensemble = EnsembleEncoder(replace(config, members=3), members)
    target = _cosines(ensemble, batcher)
    gap_before = np.abs(_cosines(members[0], batcher) - target).mean()

    student = distil_ensemble(
        members, [batcher], 80, 5e-3, 0.01, 32, 0.1, np.random.default_rng(0), torch.device("cpu")
    )

    assert isinstance(student, GruEncoder) and student.config == config
    gap_after = np.abs(_cosines(student, batcher) - target).mean()
    assert gap_after < 0.6 * gap_before, (gap_before, gap_after)
    for member, weights in zip(members, before, strict=True):  # the teachers stay as they were
        torch.testing.assert_close(member.state_dict()["gru.weight_hh_l0"], weights)


def test_teacher_vectors_give_each_row_its_own_vector(fixture_groups) -> None:
    # Computed for the rows a batch draws first, kept for later draws in other orders and
    # batches: row i must always be the ensemble's vector of sentence i alone.
    sentences = [s for group in fixture_groups.values() for s in group][:10]
    tokenizer = Tokenizer.build(sentences, TokenizerConfig(min_count=1))
    config = EncoderConfig(vocab_size=len(tokenizer), embedding_dim=16, hidden_size=8)
    members = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        members.append(GruEncoder(config).eval())
    ensemble = EnsembleEncoder(replace(config, members=2), members).eval()
    batcher = Batcher(tokenizer, sentences, [0] * len(sentences))
    targets = EnsembleTargets(ensemble, batcher, torch.device("cpu"))

    for rows in ([7, 2, 9], [2, 0, 5, 7], list(range(9, -1, -1))):
        vectors = targets(np.array(rows))
        assert vectors.shape == (len(rows), ensemble.config.dim)
        for vector, row in zip(vectors, rows, strict=True):
            ids, lengths, _ = batcher.collate(np.array([row]))
            with torch.no_grad():
                alone = ensemble(ids, lengths).float()[0]
            torch.testing.assert_close(vector, alone, atol=1e-5, rtol=1e-4)
    assert targets.known.all()


@pytest.fixture(scope="module")
def base_path(tmp_path_factory: pytest.TempPathFactory, fixture_groups) -> Path:
    out = tmp_path_factory.mktemp("distil_base") / "model"
    config = tiny_train_config(members=1, epochs=8)
    return train_encoder(list(fixture_groups.values()), out, config, progress=False)


@pytest.mark.parametrize(
    "setting",
    [{"members": 2}, {"members": 1, "keep_base": True, "distil_anchor_sentences": 40}],
    ids=["fine-tuned members", "fine-tune and base"],
)
def test_the_trainer_saves_one_distilled_network(
    tmp_path: Path, base_path: Path, setting: dict[str, object]
) -> None:
    config = tiny_train_config(epochs=3, init_from=str(base_path), distil_steps=10, **setting)
    saved = train_encoder(GROUPS, tmp_path / "model", config, progress=False)

    model = load_encoder(saved)
    base = load_encoder(base_path)
    assert model.config.members == 1 and model.dim == base.dim
    weights = load_class_weights(saved)
    assert weights is not None and weights.shape == (len(GROUPS), model.dim)
    vectors = model.encode([group[1] for group in GROUPS])
    assert (vectors @ weights.T).argmax(1).tolist() == [0, 1, 2]
