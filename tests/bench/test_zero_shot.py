"""bench.zero_shot: seeded half/half splits, top-1 of the best phrasing's group."""

from __future__ import annotations

import json

import numpy as np

from bench.zero_shot import main, zero_shot_sets, zero_shot_top1


class Exact:
    """Knows a group by its first word only: a stand-in with an answer we can compute."""

    def encode(self, texts):
        words = sorted({t.split()[0] for t in texts} | {"a", "b", "c"})
        return np.array([[float(t.split()[0] == w) for w in words] for t in texts])


def test_an_encoder_that_knows_the_groups_scores_one() -> None:
    groups = [["a one", "a two", "a three"], ["b one", "b two"], ["c x", "c y", "c z", "c w"]]
    assert zero_shot_top1(Exact(), groups) == 1.0


def test_the_demo_sets_need_no_data_root(tiny_encoder) -> None:
    sets = zero_shot_sets(None)
    assert set(sets) == {"demo_en", "demo_zh"} and all(len(g) >= 2 for g in sets["demo_en"])
    score = zero_shot_top1(tiny_encoder, sets["demo_en"])
    assert 0.0 <= score <= 1.0


def test_cli_prints_one_json_line_per_model(tiny_encoder_path, tmp_path, capsys) -> None:
    main([str(tiny_encoder_path), "--data-root", str(tmp_path)])
    line = json.loads(capsys.readouterr().out.strip())
    assert line["model"] == str(tiny_encoder_path) and set(line["top1"]) == {"demo_en", "demo_zh"}
