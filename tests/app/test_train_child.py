"""POST /admin/retrain's training child with the first-start recipe (config None): it honours
Settings.keep_base_max_phrasings, passed across the spawn."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.train_child import train_in_child
from model.base_model import shipped_base_path
from model.checkpoint import read_metadata

GROUPS = [
    ["How do I reset my password?", "forgot my password", "change password"],
    ["Where is my order?", "track my parcel", "order status"],
    ["Can I get a refund?", "money back", "return an item for a refund"],
]


@pytest.mark.skipif(shipped_base_path() is None, reason="needs the packaged base model")
def test_the_child_keeps_one_network_when_told_to(tmp_path: Path) -> None:
    progress: list[float] = []
    result = train_in_child(
        GROUPS,
        tmp_path / "model",
        None,
        1,
        on_progress=lambda fraction, _: progress.append(fraction),
        keep_base_max_phrasings=0,  # three phrasings each would keep the base by default
    )
    assert result.rehearsal is None  # not asked for
    training = read_metadata(result.checkpoint)["training"]
    assert training["train_config"]["keep_base"] is False
    assert training["train_config"]["init_from"] == str(shipped_base_path())
    assert progress and progress[-1] == pytest.approx(1.0)
