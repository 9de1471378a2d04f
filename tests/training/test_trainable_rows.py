"""Training only the embedding rows in use: the same lookups and the same learned weights as
training the whole table, with optimizer state and best-epoch copies the size of the rows."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

import training.trainer as trainer
from model.tokenizer import PAD_ID
from tests.fixtures.model_fixtures import tiny_train_config
from training.trainable_rows import TrainableRows, piece_ids, training_rows, whole_table
from training.trainer import train_encoder

GROUPS = [
    ["zorblax gift card balance", "check my zorblax card balance", "zorblax card money left"],
    ["zorblax gift card expiry", "when does my zorblax card expire", "zorblax card end date"],
    ["how do i reset my password", "forgot my password", "password reset link"],
    ["where is my parcel", "track my order", "order tracking number"],
]


def _table(rows: int = 12, dim: int = 4) -> nn.Embedding:
    torch.manual_seed(0)
    return nn.Embedding(rows, dim, padding_idx=PAD_ID)


def test_the_rows_look_up_as_the_table_they_replace() -> None:
    table = _table()
    ids = torch.tensor([[[3, 0], [7, 5]], [[0, 0], [11, 3]]])  # (B, T, P) with padding
    swapped = TrainableRows(table, torch.tensor([3, 5]))

    torch.testing.assert_close(swapped(ids), table(ids), rtol=0, atol=0)
    assert set(swapped.state_dict()) == {"weight"}  # best-epoch copies: the rows only
    assert swapped.weight.shape == (3, 4)  # a padding slot and the two rows


def test_only_the_listed_rows_get_a_gradient_and_padding_none() -> None:
    table = _table()
    swapped = TrainableRows(table, torch.tensor([3, 5]))
    swapped.sparse = True
    swapped(torch.tensor([[3, 7, 0, 5, 9]])).sum().backward()

    gradient = swapped.weight.grad.coalesce()
    assert sorted(gradient.indices()[0].tolist()) == [1, 2]  # rows 3 and 5; not slot 0
    assert swapped.frozen.grad is None


def test_the_whole_table_comes_back_with_the_trained_rows(tmp_path) -> None:
    table = _table()
    before = table.weight.detach().clone()
    network = nn.Module()
    network.embedding = table
    with training_rows(network, torch.tensor([3, 5])) as swapped:  # type: ignore[arg-type]
        with torch.no_grad():
            swapped.weight[1:] += 1.0
        with whole_table(network):  # type: ignore[arg-type]
            torch.testing.assert_close(network.embedding.weight[3], before[3] + 1.0)
        assert network.embedding is swapped
    after = network.embedding
    assert isinstance(after, nn.Embedding) and after.padding_idx == PAD_ID
    changed = (after.weight.detach() != before).any(1).nonzero().flatten().tolist()
    assert changed == [3, 5]


def test_the_table_comes_back_when_training_raises() -> None:
    network = nn.Module()
    network.embedding = _table()
    with pytest.raises(RuntimeError), training_rows(network, torch.tensor([1])):  # type: ignore[arg-type]
        raise RuntimeError("stopped")
    assert isinstance(network.embedding, nn.Embedding)


def test_piece_ids_leave_padding_out() -> None:
    assert piece_ids([[(4, 2), (0,)], [(2, 9)]]).tolist() == [2, 4, 9]
    assert piece_ids([]).tolist() == []


@pytest.mark.parametrize("holdout", [False, True], ids=["all groups", "held-out groups"])
def test_a_fine_tune_by_rows_learns_what_the_whole_table_learns(
    tmp_path, tiny_encoder_path, fixture_groups, monkeypatch, holdout
) -> None:
    """Bit for bit: the rows a fine-tune's sentences never use get no gradient either way."""
    groups = [*GROUPS, *fixture_groups.values()] if holdout else GROUPS
    config = tiny_train_config(
        epochs=3,
        init_from=str(tiny_encoder_path),
        min_groups_for_holdout=8 if holdout else 10_000,
    )
    by_rows = load_file(
        train_encoder(groups, tmp_path / "rows", config, progress=False) / "weights.safetensors"
    )
    monkeypatch.setattr(trainer, "_trained_rows", lambda network, rows: nullcontext())
    whole = load_file(
        train_encoder(groups, tmp_path / "whole", config, progress=False) / "weights.safetensors"
    )

    assert by_rows.keys() == whole.keys()
    for name, tensor in whole.items():
        assert torch.equal(by_rows[name], tensor), name
